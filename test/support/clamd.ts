/**
 * A real ClamAV daemon for tests: Debian's clamd (package clamav-daemon), run in the foreground from
 * a generated config in a temp dir, listening on a free TCP port on 127.0.0.1 and on a Unix socket,
 * with the signature database in ./clamav/ (EICAR and a marker of our own; build.sh there makes it,
 * since no signature download is possible where the tests run). It can be stopped, paused and
 * started again on the same port and socket.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const CLAMD = process.env['CLAMD'] ?? '/usr/sbin/clamd';
const DATABASE = fileURLToPath(new URL('./clamav/daily.cud', import.meta.url));

/** The signature names clamd reports for the shipped database (unsigned, hence `.UNOFFICIAL`). */
export const TEST_SIGNATURES = {
  eicar: 'Plugboard.Test.EICAR.UNOFFICIAL',
  marker: 'Plugboard.Test.Marker.UNOFFICIAL',
} as const;
/** The version build.sh gives the database; clamd's VERSION reports it. */
export const TEST_SIGNATURE_VERSION = '20';
/** The bytes the marker signature matches, anywhere in a file. */
export const TEST_MARKER = 'PLUGBOARD-TEST-MALWARE-MARKER';

export interface TestClamd {
  host: string;
  port: number;
  socket: string;
  /** clamd's StreamMaxLength, in bytes. */
  streamMaxBytes: number;
  /** Milliseconds from spawning clamd to its first PONG, on the latest start. */
  startupMs: number;
  /** Starts clamd again (same port, socket and database) and waits until it answers PING. */
  start(): Promise<void>;
  /** SIGTERM, and waits for clamd to exit. */
  stop(): Promise<void>;
  /** SIGSTOP: clamd's sockets still take connections, but nothing answers. */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
  /** Stops clamd and removes its directory. */
  close(): Promise<void>;
}

export interface TestClamdOptions {
  /** clamd's StreamMaxLength in MiB. @default 21 (above the 20 MB the tests stream) */
  streamMaxMiB?: number;
  /** clamd's ReadTimeout: seconds it waits for the next chunk of a stream. @default 120 */
  readTimeoutSeconds?: number;
  /** @default 60000 */
  startTimeoutMs?: number;
}

/**
 * The clamd binary, or null (after a loud warning) when it is not installed, so its tests can skip.
 * With CI set a missing clamd throws: .ci/run installs it, and a run that skipped it would pass
 * with the scanner untested.
 */
export async function findClamd(): Promise<string | null> {
  try {
    await access(CLAMD, constants.X_OK);
    return CLAMD;
  } catch {
    const missing = `no clamd at ${CLAMD} (Debian: apt-get install clamav-daemon; or set CLAMD to its path)`;
    if (process.env['CI'])
      throw new Error(`[tests] CI is set but there is ${missing}; ClamAV tests are not skipped in CI`);
    console.warn(`\n[tests] *** SKIPPING the ClamAV tests: ${missing} ***\n`);
    return null;
  }
}

export async function startClamd(binary: string, options: TestClamdOptions = {}): Promise<TestClamd> {
  const streamMaxMiB = options.streamMaxMiB ?? 21;
  const startTimeoutMs = options.startTimeoutMs ?? 60_000;
  // clamd runs as whoever starts it (no `User`), so it can read this 0700 dir even as root.
  const dir = await mkdtemp(join(tmpdir(), 'plugboard-clamd-'));
  const databaseDir = join(dir, 'db');
  const scratchDir = join(dir, 'tmp');
  await mkdir(databaseDir);
  await mkdir(scratchDir);
  await copyFile(DATABASE, join(databaseDir, 'daily.cud'));
  const host = '127.0.0.1';
  const port = await freePort(host);
  const socket = join(dir, 'clamd.sock');
  const logFile = join(dir, 'clamd.log');
  const configFile = join(dir, 'clamd.conf');
  await writeFile(
    configFile,
    [
      'Foreground yes',
      `DatabaseDirectory ${databaseDir}`,
      `TemporaryDirectory ${scratchDir}`,
      `TCPSocket ${port}`,
      `TCPAddr ${host}`,
      `LocalSocket ${socket}`,
      `LogFile ${logFile}`,
      'LogTime yes',
      `StreamMaxLength ${streamMaxMiB}M`,
      `ReadTimeout ${options.readTimeoutSeconds ?? 120}`,
      // Nothing changes the database while tests run.
      'SelfCheck 0',
      '',
    ].join('\n'),
  );

  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();
  let output = '';
  let paused = false;

  const logTail = async () => {
    const log = await readFile(logFile, 'utf8').catch(() => '(no log file)');
    return `--- ${logFile} (tail) ---\n${log.split('\n').slice(-30).join('\n')}\n--- output (tail) ---\n${output.slice(-3000)}`;
  };

  const clamd: TestClamd = {
    host,
    port,
    socket,
    streamMaxBytes: streamMaxMiB * 1024 * 1024,
    startupMs: 0,
    async start() {
      if (child) throw new Error('clamd is already running');
      const began = performance.now();
      output = '';
      const running = spawn(binary, [`--config-file=${configFile}`], { stdio: ['ignore', 'pipe', 'pipe'] });
      const keep = (chunk: Buffer) => {
        output = (output + chunk.toString()).slice(-20_000);
      };
      running.stdout?.on('data', keep);
      running.stderr?.on('data', keep);
      const fate: { gone: string | null } = { gone: null };
      exited = new Promise((resolve) =>
        running.once('exit', (code, signal) => {
          fate.gone = `exited with ${code ?? signal}`;
          if (child === running) child = null;
          resolve();
        }),
      );
      running.once('error', (error) => {
        fate.gone = `could not start: ${error.message}`;
      });
      child = running;
      const deadline = began + startTimeoutMs;
      for (;;) {
        if (fate.gone) throw new Error(`clamd ${fate.gone} before answering PING\n${await logTail()}`);
        if ((await pings({ path: socket })) && (await pings({ host, port }))) break;
        if (performance.now() > deadline) {
          await clamd.stop();
          throw new Error(`clamd did not answer PING within ${startTimeoutMs} ms\n${await logTail()}`);
        }
        await sleep(50);
      }
      clamd.startupMs = Math.round(performance.now() - began);
    },
    async stop() {
      const running = child;
      if (!running) return;
      if (paused) clamd.resume();
      running.kill('SIGTERM');
      const stopped = await Promise.race([exited.then(() => true), sleep(15_000, false)]);
      if (!stopped) {
        running.kill('SIGKILL');
        await exited;
        throw new Error(`clamd did not exit within 15 s of SIGTERM (killed)\n${await logTail()}`);
      }
    },
    pause() {
      child?.kill('SIGSTOP');
      paused = true;
    },
    resume() {
      child?.kill('SIGCONT');
      paused = false;
    },
    async close() {
      try {
        await clamd.stop();
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
  try {
    await clamd.start();
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return clamd;
}

async function freePort(host: string): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, host, resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** One PING, answered with PONG within a second (written here so start-up does not lean on the code under test). */
function pings(target: { path: string } | { host: string; port: number }): Promise<boolean> {
  return new Promise((resolve) => {
    const connection = createConnection(target);
    let reply = '';
    const finish = (ok: boolean) => {
      connection.destroy();
      resolve(ok);
    };
    connection.setTimeout(1000, () => finish(false));
    connection.once('error', () => finish(false));
    connection.once('connect', () => connection.write('zPING\0'));
    connection.on('data', (chunk: Buffer) => {
      reply += chunk.toString();
      if (reply.includes('\0')) finish(reply === 'PONG\0');
    });
    connection.once('close', () => finish(false));
  });
}
