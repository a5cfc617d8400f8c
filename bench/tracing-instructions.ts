/**
 * Tracing overhead counted in instructions, not seconds: the gateway's smallest query (the one
 * bench/tracing.ts times) served under valgrind's callgrind, with tracing off and at each sampling
 * ratio. On a shared VM single timed rounds of bench:tracing spread over ±20 points; the
 * instructions a request costs repeat to within about 1 % (Node's `--random-seed` fixes which
 * requests are sampled).
 *
 * Each gateway starts under `valgrind --tool=callgrind --instr-atstart=no`, answers BENCH_WARM
 * (10,000) requests uncounted so V8 has compiled what it will, then BENCH_REQUESTS (4,000) counted,
 * 20 connections. Printed per request: all instructions, and those outside V8's optimizing
 * compilers (TurboFan, Maglev), whose background threads valgrind runs one at a time, slowly, so
 * their work lands in the counted window unevenly.
 *
 * Run: npm run bench:tracing-instructions (needs valgrind; a few minutes per gateway).
 * BENCH_RATIOS (default `off,0,0.1,1`) picks the gateways; BENCH_PROFILE_DIR keeps each gateway's
 * callgrind file there (read it with callgrind_annotate); BENCH_NODE_OPTIONS goes to each gateway.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startOtlpReceiver } from '../test/support/otlp-receiver.ts';
import {
  BENCH_JWT_SECRET,
  benchUserToken,
  cleanUpOnSignal,
  freePort,
  gatewayEnv,
  graphqlRequestsPerSecond,
  ROOT,
  SMALL_QUERY,
} from './support.ts';

const WARM = Number(process.env['BENCH_WARM'] ?? 10_000);
const REQUESTS = Number(process.env['BENCH_REQUESTS'] ?? 4000);
const RATIOS = (process.env['BENCH_RATIOS'] ?? 'off,0,0.1,1').split(',').map((ratio) => ratio.trim());
const COMPILER = /compiler::|maglev::|turboshaft::|Pipeline|OptimizedCompilationJob/i;

if (spawnSync('valgrind', ['--version']).status !== 0) {
  console.error('valgrind is not installed (apt-get install valgrind): this bench counts instructions with callgrind.');
  process.exit(1);
}

const keep = process.env['BENCH_PROFILE_DIR'];
const directory = keep ?? mkdtempSync(join(tmpdir(), 'plugboard-callgrind-'));
const receiver = await startOtlpReceiver();
const headers = { authorization: `Bearer ${await benchUserToken(BENCH_JWT_SECRET)}` };
const body = JSON.stringify({ query: SMALL_QUERY });
const stopAll = async () => {
  await receiver.close();
  if (!keep) rmSync(directory, { recursive: true, force: true });
};
cleanUpOnSignal(stopAll);

/** Instructions a request costs one gateway: all of them, and those outside V8's optimizing compilers. */
async function instructionsPerRequest(ratio: string): Promise<{ all: number; outsideCompilers: number }> {
  const port = await freePort();
  // `.out`: the dump is `<profile>.1`, which must not be another ratio's profile (0 and 0.1).
  const profile = join(directory, `callgrind.${ratio === 'off' ? 'off' : `sampled-${ratio}`}.out`);
  const env = {
    PATH: process.env['PATH'] ?? '',
    PLUGBOARD_SHUTDOWN_DELAY_MS: '0',
    PORT: String(port),
    ...gatewayEnv(ratio === 'off' ? undefined : { endpoint: receiver.url, ratio }),
    // e.g. `--perf-basic-prof`, whose /tmp/perf-<pid>.map names the JIT code callgrind shows as addresses.
    ...(process.env['BENCH_NODE_OPTIONS'] && { NODE_OPTIONS: process.env['BENCH_NODE_OPTIONS'] }),
  };
  const gateway = spawn(
    'valgrind',
    [
      '--tool=callgrind',
      '--instr-atstart=no',
      `--callgrind-out-file=${profile}`,
      process.execPath,
      '--random-seed=42',
      'bin/plugboard.js',
      'serve',
    ],
    { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'ignore'] },
  );
  let exited = false;
  gateway.once('exit', () => (exited = true));
  try {
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 300_000;
    while (
      !(await fetch(`${url}/readyz`).then(
        (r) => r.ok,
        () => false,
      ))
    ) {
      if (exited || Date.now() > deadline) throw new Error(`the gateway (${ratio}) did not start under valgrind`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    await graphqlRequestsPerSecond(url, { body, headers, connections: 20, amount: WARM });
    execFileSync('callgrind_control', ['--instr=on', String(gateway.pid)], { stdio: 'ignore' });
    const { requests } = await graphqlRequestsPerSecond(url, { body, headers, connections: 20, amount: REQUESTS });
    execFileSync('callgrind_control', ['--dump', String(gateway.pid)], { stdio: 'ignore' });
    // The dump is `<profile>.1` (one part); its per-function totals, inclusive of nothing.
    const annotated = execFileSync('callgrind_annotate', ['--threshold=100', `${profile}.1`], {
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
    });
    let all = 0;
    let compilers = 0;
    for (const line of annotated.split('\n')) {
      const match = /^\s*([\d,]+) \([ \d.]+%\)\s+(.*)$/.exec(line);
      if (!match || match[2]!.includes('PROGRAM TOTALS')) continue;
      const instructions = Number(match[1]!.replaceAll(',', ''));
      all += instructions;
      if (COMPILER.test(match[2]!)) compilers += instructions;
    }
    if (all === 0) throw new Error(`callgrind counted nothing in ${readFileSync(`${profile}.1`, 'utf8').length} bytes`);
    return { all: all / requests, outsideCompilers: (all - compilers) / requests };
  } finally {
    gateway.kill('SIGKILL');
  }
}

console.log(
  `Plugboard tracing overhead in instructions (callgrind), ${WARM} requests uncounted then ${REQUESTS} counted per gateway\n`,
);
try {
  const results: Record<string, { all: number; outsideCompilers: number }> = {};
  for (const ratio of RATIOS) {
    results[ratio] = await instructionsPerRequest(ratio);
    const { all, outsideCompilers } = results[ratio];
    const label = ratio === 'off' ? 'tracing off' : `${Number(ratio) * 100} % sampled`;
    const off = results['off'];
    console.log(
      `  ${label.padEnd(14)}: ${Math.round(all).toLocaleString('en')} instructions a request, ${Math.round(outsideCompilers).toLocaleString('en')} outside the compilers${
        off && ratio !== 'off'
          ? ` (untraced / traced: ${((off.all / all) * 100).toFixed(1)} %, outside the compilers ${((off.outsideCompilers / outsideCompilers) * 100).toFixed(1)} %)`
          : ''
      }`,
    );
  }
  if (keep) console.log(`\ncallgrind files in ${keep}`);
} finally {
  await stopAll();
}
