/** Runs the real CLI (with the echo fixture plugin) in a child process. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('./cli-with-echo.ts', import.meta.url));

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Starts a command. The child gets only the env given (plus PATH). */
export function spawnCli(
  args: string[],
  env: Record<string, string>,
): ChildProcess & { stdout: NodeJS.ReadableStream; stderr: NodeJS.ReadableStream } {
  return spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env['PATH'] ?? '', ...env } });
}

/** Runs a command to completion. */
export function runCli(args: string[], env: Record<string, string>, timeoutMs = 60_000): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawnCli(args, env);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`plugboard ${args.join(' ')} did not finish in ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export interface ServingGateway {
  child: ChildProcess;
  url: string;
  output: () => string;
  /** Sends the signal and resolves with the exit code, or the name of the signal that ended it. */
  stop(signal?: NodeJS.Signals): Promise<number | string | null>;
}

/**
 * Starts `plugboard serve` and resolves once it logs that it listens, or, on a PORT given (for a
 * LOG_LEVEL that hides that line), once its /readyz answers. `from` runs the CLI of another copy
 * of the checkout, in a working directory of its own.
 */
export function serveGateway(
  env: Record<string, string>,
  timeoutMs = 90_000,
  from: { cli?: string; cwd?: string } = {},
): Promise<ServingGateway> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [from.cli ?? CLI, 'serve'], {
      cwd: from.cwd,
      // No drain delay unless a test asks for one: most stop a gateway that no balancer fronts.
      env: { PATH: process.env['PATH'] ?? '', PORT: '0', LOG_LEVEL: 'info', PLUGBOARD_SHUTDOWN_DELAY_MS: '0', ...env },
    });
    let output = '';
    const exited = new Promise<number | string | null>((done) =>
      child.on('exit', (code, signal) => done(code ?? signal)),
    );
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`gateway did not start in ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    let listening = false;
    const listens = (url: string) => {
      if (listening) return;
      listening = true;
      clearTimeout(timer);
      resolve({
        child,
        url,
        output: () => output,
        stop: async (signal = 'SIGTERM') => {
          child.kill(signal);
          return exited;
        },
      });
    };
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /"url":"(http:\/\/[^"]+)\/graphql"[^\n]*"msg":"gateway listening"/.exec(output);
      if (match) listens(match[1]!);
    };
    if (env['PORT'] && env['PORT'] !== '0') {
      const url = `http://127.0.0.1:${env['PORT']}`;
      const ready = async (): Promise<void> => {
        if (listening || child.exitCode !== null) return;
        if (
          await fetch(`${url}/readyz`).then(
            (response) => response.ok,
            () => false,
          )
        )
          listens(url);
        else setTimeout(ready, 100);
      };
      void ready();
    }
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited with ${code} before listening:\n${output}`));
    });
  });
}
