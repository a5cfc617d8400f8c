/**
 * GitHub webhooks: signed deliveries applied per second at concurrency 64, ack after commit.
 *
 * Deliveries: GitHub's recorded payloads (@octokit/webhooks-examples: issues, issue_comment,
 * pull_request) made into BENCH_EVENTS (5,000) deliveries about 1,000 objects, each changed a few
 * times with later `updated_at`s, signed with @octokit/webhooks-methods as GitHub signs them.
 * The same bodies go to both servers:
 *
 * - Plugboard (`plugboard serve`, core and github plugins): acks 200 once the delivery is
 *   committed to `github.events`, then applies it; "applied" = every delivery `processed`
 *   (polled every 20 ms).
 * - The simplest correct handler (bench/peers/github-simple-handler.ts): verify, one
 *   `INSERT … ON CONFLICT` per delivery, ack; "applied" = every answer received.
 *
 * 64 senders (BENCH_CONCURRENCY) take the next delivery from a shared index over keep-alive
 * connections, so deliveries of one object may arrive out of order, as GitHub's do. Both servers
 * run on core 1 (unless BENCH_PIN=false) with a pool of 10, each round on a fresh database,
 * alternating which goes first; the figure is the median of the per-round ratios (BENCH_ROUNDS, 5).
 * Target: Plugboard >= 1.5x the peer.
 *
 * Run: npm run bench:github-webhooks
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { sign } from '@octokit/webhooks-methods';
import pg from 'pg';
import {
  freshDatabase,
  inTurn,
  median,
  pinning,
  postAll,
  readyz,
  untilApplied,
  startServer,
  type Server,
} from './support.ts';

const EVENTS = Number(process.env['BENCH_EVENTS'] ?? 5000);
const CONCURRENCY = Number(process.env['BENCH_CONCURRENCY'] ?? 64);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5);
const SECRET = randomBytes(24).toString('hex');
const CHANGES = 5;

interface Delivery {
  body: string;
  headers: Record<string, string>;
}

type Payload = Record<string, unknown> & { action?: string };
const examples = createRequire(import.meta.url)('@octokit/webhooks-examples') as {
  name: string;
  examples: Payload[];
}[];
const example = (event: string, action: string) =>
  examples.find((group) => group.name === event)!.examples.find((e) => e.action === action)!;

/** BENCH_EVENTS deliveries: objects of three kinds, each opened then edited with later times. */
async function makeDeliveries(): Promise<Delivery[]> {
  const kinds = [
    { event: 'issues', key: 'issue', opened: example('issues', 'opened'), edited: example('issues', 'edited') },
    {
      event: 'issue_comment',
      key: 'comment',
      opened: example('issue_comment', 'created'),
      edited: example('issue_comment', 'edited'),
    },
    {
      event: 'pull_request',
      key: 'pull_request',
      opened: example('pull_request', 'opened'),
      edited: example('pull_request', 'synchronize'),
    },
  ];
  const objects = Math.ceil(EVENTS / CHANGES);
  const start = Date.UTC(2030, 0, 1);
  const deliveries: Delivery[] = [];
  for (let change = 0; change < CHANGES; change++) {
    for (let n = 0; n < objects && deliveries.length < EVENTS; n++) {
      const kind = kinds[n % kinds.length]!;
      const template = change === 0 ? kind.opened : kind.edited;
      const object = template[kind.key] as Record<string, unknown>;
      const payload = {
        ...template,
        [kind.key]: {
          ...object,
          id: 7_000_000_000 + n,
          title: `object ${n} change ${change}`,
          updated_at: new Date(start + (n * CHANGES + change) * 1000).toISOString(),
        },
      };
      const body = JSON.stringify(payload);
      deliveries.push({
        body,
        headers: {
          'content-type': 'application/json',
          'x-github-event': kind.event,
          'x-github-delivery': randomUUID(),
          'x-hub-signature-256': await sign(SECRET, body),
        },
      });
    }
  }
  return deliveries;
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

/** One system on a fresh database: deliveries applied per second, and the objects it holds after. */
async function run(system: 'plugboard' | 'peer', deliveries: Delivery[]): Promise<{ rate: number; objects: number }> {
  const database = await freshDatabase(`bench_gh_${system}`);
  let server: Server | undefined;
  try {
    server =
      system === 'plugboard'
        ? await startServer(
            ['bin/plugboard.js', 'serve'],
            {
              DATABASE_URL: database.url,
              LOG_LEVEL: 'warn',
              NODE_ENV: 'production',
              PLUGBOARD_PLUGINS: 'core,github',
              GITHUB_WEBHOOK_SECRET: SECRET,
              GITHUB_TOKEN: `ghp_${'b'.repeat(36)}`,
              GITHUB_API_URL: 'http://127.0.0.1:9',
              GITHUB_SYNC_INTERVAL: '0',
            },
            readyz,
          )
        : await startServer(
            ['bench/peers/github-simple-handler.ts'],
            { DATABASE_URL: database.url, GITHUB_WEBHOOK_SECRET: SECRET, POOL_SIZE: '10' },
            (url) => fetch(url),
          );
    const watcher = new pg.Client(database.url);
    await watcher.connect();
    try {
      const cost = await costMeter(watcher, server);
      const started = performance.now();
      await postAll(system === 'plugboard' ? `${server.url}/webhooks/github` : server.url, deliveries, CONCURRENCY);
      if (system === 'plugboard') {
        await untilApplied(watcher, 'github', deliveries.length);
      }
      const rate = deliveries.length / ((performance.now() - started) / 1000);
      const { serverMicros, postgresMicros, walBytes } = await cost();
      console.log(
        `    ${system}: per delivery ${(serverMicros / deliveries.length).toFixed(0)} µs server CPU, ${(postgresMicros / deliveries.length).toFixed(0)} µs Postgres CPU, ${(walBytes / deliveries.length / 1024).toFixed(1)} KB WAL`,
      );
      const count =
        system === 'plugboard'
          ? 'SELECT (SELECT count(*) FROM github.issues) + (SELECT count(*) FROM github.issue_comments) + (SELECT count(*) FROM github.pull_requests) AS n'
          : 'SELECT count(*) AS n FROM github_objects';
      const objects = Number((await watcher.query<{ n: string }>(count)).rows[0]!.n);
      return { rate, objects };
    } finally {
      await watcher.end();
    }
  } finally {
    await server?.stop();
    await database.drop();
  }
}

const deliveries = await makeDeliveries();
const expected = Math.ceil(EVENTS / CHANGES);
console.log(
  `GitHub webhooks, ${pinning} — ${deliveries.length} signed deliveries (issues, issue_comment, pull_request) about ${expected} objects, concurrency ${CONCURRENCY}, ${ROUNDS} rounds`,
);
const ours: number[] = [];
const peer: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  const held: Record<string, number> = {};
  await inTurn(
    round,
    async () => {
      const result = await run('plugboard', deliveries);
      ours.push(result.rate);
      held['plugboard'] = result.objects;
    },
    async () => {
      const result = await run('peer', deliveries);
      peer.push(result.rate);
      held['peer'] = result.objects;
    },
  );
  const check =
    held['plugboard'] === expected && held['peer'] === expected
      ? 'both hold every object'
      : `objects held: ${JSON.stringify(held)}, expected ${expected}`;
  console.log(
    `  round ${round + 1}: plugboard ${ours[round]!.toFixed(0)} deliveries/s, simplest handler ${peer[round]!.toFixed(0)} deliveries/s, ${(ours[round]! / peer[round]!).toFixed(2)}× (${check})`,
  );
}
const ratios = ours.map((rate, i) => rate / peer[i]!);
console.log(
  `  plugboard ${median(ours).toFixed(0)} deliveries/s applied   simplest handler ${median(peer).toFixed(0)} deliveries/s   ratio ${median(ratios).toFixed(2)}× (rounds ${ratios.map((r) => r.toFixed(2)).join(', ')}; target >= 1.5×)`,
);
