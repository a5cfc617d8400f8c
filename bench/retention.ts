/**
 * Retention: Stripe webhook ingest (acks per second, p99 ack latency) while the log's retention
 * prune drops 5 million old events, against the same ingest without a prune, in one run.
 *
 * Set-up, once: `plugboard serve` (Stripe only, scheduled prunes off) on a fresh database; its
 * log's weeks reach back BENCH_ROUNDS weeks before the retention period, and each of those
 * weeks gets 5,000,000 / BENCH_ROUNDS processed events (one in 10,000 failed) generated in SQL
 * (generate_series, set-based), then VACUUM (ANALYZE) and a CHECKPOINT.
 *
 * Each round runs two windows of BENCH_WINDOW_MS (6 s), in alternating order: in both, 32
 * senders (BENCH_CONCURRENCY) post new signed `customer.created` events over keep-alive
 * connections; in the prune window, one second in, the prune (the Stripe plugin's retention
 * rules, the code the scheduled job runs) drops the oldest week left — a fifth of the 5 million
 * rows, its failed events moved to the default partition. The figures are the medians of the
 * per-round ratios of acks/s and of p99, prune window over plain window. Target: within 10 %
 * (acks/s >= 0.90×, p99 <= 1.10×).
 *
 * Run: npm run bench:retention (BENCH_PIN=false: unpinned; BENCH_TIMELINE=1 prints each prune
 * window's acks in 250 ms steps, the prune's steps starred; DATABASE_URL picks the Postgres, e.g.
 * the one bench/postgres-without-discard.sh starts)
 */
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import pg from 'pg';
import { runRetention } from '../gateway/retention.ts';
import { ensurePartitions, weekStart, webhookLogRetention } from '../gateway/webhooks/partitions.ts';
import { signedWebhook } from '../test/support/stripe-server.ts';
import {
  cleanUpOnSignal,
  freshDatabase,
  inTurn,
  median,
  pinning,
  readyz,
  runPinnedSelf,
  startServer,
  type Server,
} from './support.ts';

runPinnedSelf(0);

const TOTAL_ROWS = Number(process.env['BENCH_ROWS'] ?? 5_000_000);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5);
const WINDOW_MS = Number(process.env['BENCH_WINDOW_MS'] ?? 6000);
const CONCURRENCY = Number(process.env['BENCH_CONCURRENCY'] ?? 32);
const PRUNE_AFTER_MS = 1000;
const RETENTION_DAYS = 30;
const DAY = 86_400_000;
const WEEK = 7 * DAY;
const SECRET = `whsec_${randomBytes(16).toString('hex')}`;

const database = await freshDatabase('bench_retention');
let server: Server | undefined;
const pool = new pg.Pool({ connectionString: database.url, max: 4 });
const cleanup = async () => {
  await server?.stop();
  await pool.end();
  await database.drop();
};
cleanUpOnSignal(cleanup);

let sent = 0;
/** A new customer each: nothing to order against, nothing to fetch. */
function nextDelivery() {
  const n = sent++;
  const created = Math.floor(Date.now() / 1000);
  const customer = {
    id: `cus_bench${n}`,
    object: 'customer',
    created,
    email: `user${n}@example.com`,
    name: 'Jenny Rosen',
    balance: 0,
    currency: 'usd',
    delinquent: false,
    livemode: false,
    metadata: { n: String(n) },
  };
  const event = {
    id: `evt_bench${n}_${randomBytes(4).toString('hex')}`,
    object: 'event',
    api_version: '2026-10-28.endive',
    created,
    data: { object: customer },
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type: 'customer.created',
  };
  return signedWebhook(JSON.stringify(event), SECRET);
}

interface Window {
  acksPerSecond: number;
  p99: number;
  /** The prune's duration and what it dropped (prune windows only). */
  prune?: { ms: number; rows: number; p99During: number };
}

/** Posts for WINDOW_MS with CONCURRENCY senders; `during` runs PRUNE_AFTER_MS in. */
async function stream(url: string, during?: () => Promise<number>): Promise<Window> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const acks: { at: number; ms: number }[] = [];
  const started = performance.now();
  const end = started + WINDOW_MS;
  const post = () =>
    new Promise<void>((resolve, reject) => {
      const { body, headers } = nextDelivery();
      const at = performance.now();
      const req = request(
        url,
        { method: 'POST', agent, headers: { ...headers, 'content-length': Buffer.byteLength(body) } },
        (response) => {
          response.resume();
          response.on('end', () => {
            if (response.statusCode !== 200) return reject(new Error(`webhook answered ${response.statusCode}`));
            acks.push({ at, ms: performance.now() - at });
            resolve();
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  let prune: Window['prune'];
  const pruning = during
    ? (async () => {
        await new Promise((resolve) => setTimeout(resolve, PRUNE_AFTER_MS));
        const from = performance.now();
        const rows = await during();
        prune = { ms: performance.now() - from, rows, p99During: 0 };
        return { from, to: performance.now() };
      })()
    : undefined;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < end) await post();
    }),
  );
  const span = await pruning;
  agent.destroy();
  const p99 = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length * 0.99)] ?? NaN;
  if (process.env['BENCH_TIMELINE'] && span) {
    const rows: string[] = [];
    for (let t = started; t < end; t += 250) {
      const done = acks
        .filter((a) => a.at + a.ms >= t && a.at + a.ms < t + 250)
        .map((a) => a.ms)
        .sort((a, b) => a - b);
      const mark = t + 250 > span.from && t < span.to ? '*' : ' ';
      rows.push(
        `${mark}${((t - started) / 1000).toFixed(2)}s n=${done.length} p50=${(done[Math.floor(done.length / 2)] ?? 0).toFixed(0)} max=${(done.at(-1) ?? 0).toFixed(0)}`,
      );
    }
    console.log(rows.join('\n'));
  }
  if (prune && span)
    prune.p99During = p99(acks.filter((a) => a.at + a.ms >= span.from && a.at <= span.to).map((a) => a.ms));
  return {
    acksPerSecond: acks.length / ((performance.now() - started) / 1000),
    p99: p99(acks.map((a) => a.ms)),
    ...(prune ? { prune } : {}),
  };
}

try {
  server = await startServer(
    ['bin/plugboard.js', 'serve'],
    {
      DATABASE_URL: database.url,
      LOG_LEVEL: 'warn',
      NODE_ENV: 'production',
      // Documents as text, as before trusted documents (issue 23).
      PLUGBOARD_DOCUMENTS: 'any',
      PLUGBOARD_PLUGINS: 'core,stripe',
      PLUGBOARD_RETENTION_CRON: 'off',
      STRIPE_API_KEY: `sk_test_${randomBytes(12).toString('hex')}`,
      STRIPE_WEBHOOK_SECRET: SECRET,
      STRIPE_API_BASE_URL: 'http://127.0.0.1:9',
      STRIPE_SYNC_INTERVAL: '0',
    },
    readyz,
  );
  const now = new Date();
  // Weeks 1 … ROUNDS before the one holding the retention cutoff: each round drops the oldest left.
  const cutoffWeek = weekStart(new Date(now.getTime() - RETENTION_DAYS * DAY)).getTime();
  const weeks = Array.from({ length: ROUNDS }, (_, i) => new Date(cutoffWeek - (ROUNDS - i) * WEEK));
  // This new database's first partition (up to the end of this week) holds nothing; a log that
  // has run for months has weeks instead.
  await pool.query('ALTER TABLE stripe.events DETACH PARTITION stripe.events_legacy');
  await pool.query('DROP TABLE stripe.events_legacy');
  for (let at = weeks[0]!.getTime(); at <= now.getTime(); at += 3 * WEEK)
    await ensurePartitions(pool, 'stripe', new Date(at));
  await ensurePartitions(pool, 'stripe', now);
  const perWeek = Math.floor(TOTAL_ROWS / ROUNDS);
  console.log(
    `Retention — ${(perWeek * ROUNDS).toLocaleString('en')} old events in ${ROUNDS} weeks, ${ROUNDS} rounds of two ${WINDOW_MS} ms windows, concurrency ${CONCURRENCY}, ${pinning}`,
  );
  const seeding = performance.now();
  for (const [i, week] of weeks.entries()) {
    await pool.query(
      `INSERT INTO stripe.events (id, type, payload, status, received_at, processed_at, attempts)
       SELECT e.id, 'customer.updated', jsonb_build_object(
                'id', e.id, 'object', 'event', 'api_version', '2026-10-28.endive', 'created', 1700000000 + g,
                'type', 'customer.updated', 'livemode', false, 'pending_webhooks', 1,
                'data', jsonb_build_object('object', jsonb_build_object(
                  'id', 'cus_seed' || (g % 100000), 'object', 'customer', 'created', 1700000000,
                  'email', 'user' || g || '@example.com', 'name', 'Jenny Rosen', 'balance', 0, 'currency', 'usd',
                  'metadata', jsonb_build_object('n', g::text)),
                  'previous_attributes', jsonb_build_object('email', 'old' || g || '@example.com'))),
              CASE WHEN g % 10000 = 0 THEN 'failed' ELSE 'processed' END,
              $1::timestamptz + (g * ($2::double precision / $3)) * interval '1 millisecond',
              $1::timestamptz + (g * ($2::double precision / $3)) * interval '1 millisecond', 1
       FROM generate_series(1, $3::int) AS g, LATERAL (SELECT 'evt_seed' || $4::text || '_' || g AS id) AS e`,
      [week, WEEK - 1, perWeek, i],
    );
  }
  // As a log that has run for months: its old weeks vacuumed (autovacuum would otherwise do it
  // in the middle of the rounds) and nothing left dirty in shared buffers.
  await pool.query('VACUUM (ANALYZE) stripe.events');
  await pool.query('CHECKPOINT');
  console.log(`  seeded in ${((performance.now() - seeding) / 1000).toFixed(0)} s`);

  const url = `${server.url}/webhooks/stripe`;
  await stream(url); // warm-up
  const ratios = { acks: [] as number[], p99: [] as number[] };
  for (let round = 0; round < ROUNDS; round++) {
    let plain: Window | undefined;
    let pruned: Window | undefined;
    const notes: string[] = [];
    // Retention just long enough to reach this round's week: one week dropped a round.
    const days = Math.floor((now.getTime() - (weeks[round]!.getTime() + WEEK)) / DAY);
    const roundRules = new Map([
      ['stripe', webhookLogRetention({ schema: 'stripe', processedDays: days, unsettledDays: 90 })],
    ]);
    await inTurn(
      round,
      async () => {
        plain = await stream(url);
      },
      async () => {
        pruned = await stream(url, async () => {
          const outcomes = await runRetention(pool, roundRules, {
            now: new Date(),
            dryRun: false,
            batchSize: 5000,
            progress: (_plugin, _rule, _rows, note) => note && notes.push(note),
          });
          return outcomes.reduce((sum, o) => sum + o.rows, 0);
        });
      },
    );
    const acks = pruned!.acksPerSecond / plain!.acksPerSecond;
    const p99 = pruned!.p99 / plain!.p99;
    ratios.acks.push(acks);
    ratios.p99.push(p99);
    console.log(
      `  round ${round + 1}: plain ${plain!.acksPerSecond.toFixed(0)} acks/s p99 ${plain!.p99.toFixed(1)} ms; with prune ${pruned!.acksPerSecond.toFixed(0)} acks/s p99 ${pruned!.p99.toFixed(1)} ms (prune ${pruned!.prune!.ms.toFixed(0)} ms, about ${pruned!.prune!.rows.toLocaleString('en')} rows, p99 of acks during it ${pruned!.prune!.p99During.toFixed(1)} ms: ${notes.join('; ')}); ${acks.toFixed(2)}× acks/s, ${p99.toFixed(2)}× p99`,
    );
  }
  const left = await pool.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM stripe.events WHERE id LIKE 'evt_seed%' AND status = 'processed'",
  );
  console.log(
    `  acks/s with prune / without: ${median(ratios.acks).toFixed(2)}× (rounds ${ratios.acks.map((r) => r.toFixed(2)).join(', ')}); p99 with / without: ${median(ratios.p99).toFixed(2)}× (rounds ${ratios.p99.map((r) => r.toFixed(2)).join(', ')}); target >= 0.90× and <= 1.10×; seeded processed rows left: ${left.rows[0]!.n}`,
  );
} finally {
  await cleanup();
}
