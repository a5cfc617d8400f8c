/**
 * Gateway overhead and cold start.
 *
 * 1. Requests/s of one query through the full gateway (JWT auth, graphql-armor limits, CSRF
 *    check, Prometheus metrics, request ids, composed schema) against a bare graphql-yoga
 *    serving the same Pothos schema (bench/bare-yoga.ts). Each server runs in its own process
 *    pinned to the second core (taskset, when available), autocannon in this one on the first.
 *    This machine is a shared VM whose speed drifts by ±20% within a minute, so the servers are
 *    measured in many short rotating rounds and the figure is the median of the per-round
 *    ratios (each ratio compares runs seconds apart). Two peers: yoga with its defaults, and
 *    yoga with its per-request body-size TransformStream off (the gateway checks the size in
 *    its HTTP layer instead) — the second isolates the gateway's own overhead.
 *    Target: gateway >= 90% of bare.
 * 2. Cold start on the embedded Postgres: `plugboard serve` until /readyz answers 200, in a
 *    fresh data dir (runs initdb) and again in the same dir. Targets: <= 15 s and <= 5 s.
 *
 * Run: npm run bench   (the throughput part needs Postgres at DATABASE_URL, default
 * postgres://postgres@127.0.0.1:5432/test). BENCH_ROUNDS, BENCH_SECONDS, BENCH_CONNECTIONS tune it.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  gatewayEnv,
  median,
  readyz,
  startServer,
  PINNED,
  runPinnedSelf,
  BENCH_JWT_SECRET,
  benchUserToken,
  SMALL_QUERY,
  graphqlRequestsPerSecond,
} from './support.ts';

// autocannon in this process on core 0, as the servers are on core 1 (when pinned).
runPinnedSelf(0);

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 10);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 3);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 20);

const answersQuery = (url: string) =>
  fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: SMALL_QUERY }),
  });

const requestsPerSecond = (url: string, headers: Record<string, string>, seconds: number) =>
  graphqlRequestsPerSecond(url, {
    body: JSON.stringify({ query: SMALL_QUERY }),
    headers,
    connections: CONNECTIONS,
    seconds,
  });

async function throughput(): Promise<void> {
  const token = await benchUserToken(BENCH_JWT_SECRET);

  const servers = {
    'bare graphql-yoga (defaults)': await startServer(['bench/bare-yoga.ts'], {}, answersQuery),
    'bare graphql-yoga, body-size stream off': await startServer(
      ['bench/bare-yoga.ts'],
      { BARE_NO_BODY_STREAM: '1' },
      answersQuery,
    ),
    'full gateway (JWT, limits, metrics)': await startServer(['bin/plugboard.js', 'serve'], gatewayEnv(), readyz),
  };
  const names = Object.keys(servers) as (keyof typeof servers)[];
  const gatewayName = names[2]!;
  // Every server gets the same request bytes; only the gateway reads the token.
  const auth = { authorization: `Bearer ${token}` };
  const headersFor = (_name: string) => auth;
  try {
    // Same answer from every server, so all do the same work.
    const answers = await Promise.all(
      names.map((name) =>
        fetch(`${servers[name].url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headersFor(name) },
          body: JSON.stringify({ query: SMALL_QUERY }),
        }).then((r) => r.text()),
      ),
    );
    if (new Set(answers).size !== 1) throw new Error(`answers differ:\n${answers.join('\n')}`);

    for (const name of names) await requestsPerSecond(servers[name].url, headersFor(name), 2); // warm-up (JIT)
    const runs = new Map<string, number[]>(names.map((name) => [name, []]));
    const cpu = new Map<string, number[]>(names.map((name) => [name, []]));
    const ratios = new Map<string, number[]>(names.slice(0, 2).map((name) => [name, []]));
    for (let round = 1; round <= ROUNDS; round++) {
      // Rotate the order so a drift inside a round favours no server.
      const order = names.map((_, i) => names[(i + round) % names.length]!);
      const measured = new Map<string, number>();
      for (const name of order) {
        const before = servers[name].cpuMicros();
        const { rps, requests } = await requestsPerSecond(servers[name].url, headersFor(name), SECONDS);
        measured.set(name, rps);
        cpu.get(name)!.push((servers[name].cpuMicros() - before) / requests);
      }
      for (const [name, rps] of measured) runs.get(name)!.push(rps);
      for (const [name, list] of ratios) list.push(measured.get(gatewayName)! / measured.get(name)!);
      console.log(
        `round ${String(round).padStart(2)}: ${names.map((name) => `${measured.get(name)!.toFixed(0).padStart(6)}`).join('  ')} req/s`,
      );
    }
    console.log(
      `\nthroughput (${ROUNDS} rotating rounds of ${SECONDS} s each, ${CONNECTIONS} connections${PINNED ? ', servers on core 1, load on core 0' : ', unpinned: everything shares all cores'})`,
    );
    for (const name of names) {
      console.log(
        `  ${name.padEnd(42)}: median ${median(runs.get(name)!).toFixed(0).padStart(6)} req/s, ${median(cpu.get(name)!).toFixed(1)} µs server CPU per request`,
      );
    }
    for (const [name, list] of ratios) {
      const cpuRatio = median(cpu.get(name)!) / median(cpu.get(gatewayName)!);
      console.log(
        `  gateway / ${name}: req/s median ${(median(list) * 100).toFixed(1)} % (rounds ${(Math.min(...list) * 100).toFixed(0)}-${(Math.max(...list) * 100).toFixed(0)} %), CPU-per-request ratio ${(cpuRatio * 100).toFixed(1)} %; target >= 90 %`,
      );
    }
  } finally {
    await Promise.all(names.map((name) => servers[name].stop()));
  }
}

async function coldStart(): Promise<void> {
  const parent = await mkdtemp(join(tmpdir(), 'plugboard-bench-'));
  await chmod(parent, 0o755); // as root, Postgres runs as the postgres user and must enter it
  const env = { PLUGBOARD_DATA_DIR: join(parent, 'data'), LOG_LEVEL: 'warn' };
  try {
    const times: number[] = [];
    for (let run = 0; run < 2; run++) {
      const started = performance.now();
      const server = await startServer(['bin/plugboard.js', 'serve'], env, readyz, 120_000);
      times.push((performance.now() - started) / 1000);
      await server.stop();
    }
    console.log('\ncold start on the embedded Postgres (spawn to /readyz 200)');
    console.log(`  first run (initdb)  : ${times[0]!.toFixed(2)} s  (target <= 15 s)`);
    console.log(`  later run           : ${times[1]!.toFixed(2)} s  (target <= 5 s)`);
  } finally {
    await rm(parent, { recursive: true, force: true });
  }
}

console.log(
  `Plugboard gateway benchmark — ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.version}\n`,
);
if (process.env['BENCH_ONLY'] !== 'cold-start') await throughput();
if (process.env['BENCH_ONLY'] !== 'throughput') await coldStart();
