/**
 * What the webhook benchmarks share (bench/github-webhooks.ts, bench/shopify-webhooks.ts): each
 * round, on fresh databases, the same signed deliveries go to `plugboard serve` (acks 200 once a
 * delivery is committed to the plugin's log, then applies it; "applied" = every delivery
 * `processed`, polled every 20 ms) and to the simplest correct handler for the provider (verify,
 * one `INSERT … ON CONFLICT` per delivery, ack; "applied" = every answer received). Senders take
 * the next delivery from a shared index over keep-alive connections, so deliveries of one object
 * may arrive out of order, as providers' do. Both servers run on core 1 (unless BENCH_PIN=false)
 * with a pool of 10, alternating which goes first; the figure is the median of the per-round
 * ratios. Each run also prints, per delivery, the server's CPU, the CPU of the Postgres backends
 * serving its database and the WAL written.
 */
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { freshDatabase, inTurn, median, postAll, readyz, startServer, type Server, untilApplied } from './support.ts';

export interface Delivery {
  body: string;
  headers: Record<string, string>;
}

export interface WebhookBench {
  /** The provider's name, for the report. */
  provider: string;
  /** The plugin's schema (its log is `<schema>.events`) and webhook path. */
  schema: string;
  path: string;
  /** PLUGBOARD_PLUGINS and the plugin's environment for `plugboard serve`. */
  plugins: string;
  env: Record<string, string>;
  /** The simplest handler: its script and environment (it gets DATABASE_URL and POOL_SIZE). */
  peer: { script: string; env: Record<string, string> };
  /** Queries counting the objects each system holds after a round (`n`). */
  objects: { plugboard: string; peer: string };
  /** Objects both must hold after every round. */
  expected: number;
  deliveries: Delivery[];
  concurrency: number;
  rounds: number;
}

/**
 * What a run costs: the server's CPU, the CPU of the Postgres backends serving its database, and
 * the WAL written (cluster-wide: anything else writing meanwhile counts too). Start, then call
 * the returned function at the end.
 */
async function costMeter(watcher: pg.Client, server: Server) {
  const backends = async () => {
    const { rows } = await watcher.query<{ pid: number }>(
      'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
    );
    const ticks = new Map<number, number>();
    for (const { pid } of rows) {
      try {
        // Fields 14 and 15 of /proc/<pid>/stat: utime and stime in clock ticks (1/100 s).
        const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
        ticks.set(pid, Number(fields[11]) + Number(fields[12]));
      } catch {
        // The backend ended meanwhile.
      }
    }
    return ticks;
  };
  const lsn = async () =>
    (await watcher.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]!.lsn;
  const server0 = server.cpuMicros();
  const backends0 = await backends();
  const lsn0 = await lsn();
  return async () => {
    let ticks = 0;
    for (const [pid, now] of await backends()) ticks += now - (backends0.get(pid) ?? 0);
    const { rows } = await watcher.query<{ bytes: string }>(
      'SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1) AS bytes',
      [lsn0],
    );
    return {
      serverMicros: server.cpuMicros() - server0,
      postgresMicros: ticks * 10_000,
      walBytes: Number(rows[0]!.bytes),
    };
  };
}

/**
 * `BENCH_CANDIDATE=<script>` runs that script in Plugboard's place (e.g. the floor handler,
 * bench/peers/github-log-floor.ts), with the peer's environment plus every FLOOR_* variable and
 * BENCH_NODE_OPTIONS; "applied" = every answer received, as for the peer.
 */
const candidateEnv = () => ({
  ...Object.fromEntries(Object.entries(process.env).filter(([name]) => name.startsWith('FLOOR_'))),
  ...(process.env['BENCH_NODE_OPTIONS'] && { NODE_OPTIONS: process.env['BENCH_NODE_OPTIONS'] }),
});

/** One system on a fresh database: deliveries applied per second, and the objects it holds after. */
async function run(bench: WebhookBench, system: 'plugboard' | 'peer'): Promise<{ rate: number; objects: number }> {
  const { deliveries } = bench;
  const database = await freshDatabase(`bench_${bench.schema}_${system}`);
  let server: Server | undefined;
  const candidate = system === 'plugboard' ? process.env['BENCH_CANDIDATE'] : undefined;
  try {
    server = candidate
      ? await startServer(
          [candidate],
          { ...candidateEnv(), DATABASE_URL: database.url, POOL_SIZE: '10', ...bench.peer.env },
          (url) => fetch(url),
        )
      : system === 'plugboard'
        ? await startServer(
            ['bin/plugboard.js', 'serve'],
            {
              DATABASE_URL: database.url,
              LOG_LEVEL: 'warn',
              NODE_ENV: 'production',
              // Documents as text, as before trusted documents (issue 23).
              PLUGBOARD_DOCUMENTS: 'any',
              PLUGBOARD_PLUGINS: bench.plugins,
              // e.g. `--cpu-prof --cpu-prof-dir=/tmp/profiles` to see where a round goes.
              ...(process.env['BENCH_NODE_OPTIONS'] && { NODE_OPTIONS: process.env['BENCH_NODE_OPTIONS'] }),
              ...bench.env,
            },
            readyz,
          )
        : await startServer(
            [bench.peer.script],
            { DATABASE_URL: database.url, POOL_SIZE: '10', ...bench.peer.env },
            (url) => fetch(url),
          );
    const watcher = new pg.Client(database.url);
    await watcher.connect();
    try {
      const cost = await costMeter(watcher, server);
      const started = performance.now();
      await postAll(
        system === 'plugboard' && !candidate ? `${server.url}${bench.path}` : server.url,
        deliveries,
        bench.concurrency,
      );
      if (system === 'plugboard' && !candidate) await untilApplied(watcher, bench.schema, deliveries.length);
      const rate = deliveries.length / ((performance.now() - started) / 1000);
      const { serverMicros, postgresMicros, walBytes } = await cost();
      console.log(
        `    ${system}: per delivery ${(serverMicros / deliveries.length).toFixed(0)} µs server CPU, ${(postgresMicros / deliveries.length).toFixed(0)} µs Postgres CPU, ${(walBytes / deliveries.length / 1024).toFixed(1)} KB WAL`,
      );
      const objects = Number(
        (await watcher.query<{ n: string }>(candidate ? bench.objects.peer : bench.objects[system])).rows[0]!.n,
      );
      return { rate, objects };
    } finally {
      await watcher.end();
    }
  } finally {
    await server?.stop();
    await database.drop();
  }
}

/** Runs the rounds and prints each, then the medians and the ratio. */
export async function compareWebhooks(bench: WebhookBench): Promise<void> {
  const ours: number[] = [];
  const peer: number[] = [];
  for (let round = 0; round < bench.rounds; round++) {
    const held: Record<string, number> = {};
    await inTurn(
      round,
      async () => {
        const result = await run(bench, 'plugboard');
        ours.push(result.rate);
        held['plugboard'] = result.objects;
      },
      async () => {
        const result = await run(bench, 'peer');
        peer.push(result.rate);
        held['peer'] = result.objects;
      },
    );
    const check =
      held['plugboard'] === bench.expected && held['peer'] === bench.expected
        ? 'both hold every object'
        : `objects held: ${JSON.stringify(held)}, expected ${bench.expected}`;
    console.log(
      `  round ${round + 1}: plugboard ${ours[round]!.toFixed(0)} deliveries/s, simplest handler ${peer[round]!.toFixed(0)} deliveries/s, ${(ours[round]! / peer[round]!).toFixed(2)}× (${check})`,
    );
  }
  const ratios = ours.map((rate, i) => rate / peer[i]!);
  console.log(
    `  plugboard ${median(ours).toFixed(0)} deliveries/s applied   simplest handler ${median(peer).toFixed(0)} deliveries/s   ratio ${median(ratios).toFixed(2)}× (rounds ${ratios.map((r) => r.toFixed(2)).join(', ')}; target >= 1.5×)`,
  );
}
