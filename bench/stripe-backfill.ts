/**
 * Stripe backfill against the limit of a raw COPY.
 *
 * The local Stripe stand-in (test/support/stripe-server.ts, in this process) holds BENCH_CUSTOMERS
 * customers (100,000 by default). `plugboard stripe backfill --resource customers` runs in a child
 * process (pinned to the second core with taskset when available) against a fresh database: the
 * real SDK lists them 100 a page over HTTP, and each page is upserted set-based with its cursor
 * checkpoint. Its rate is taken from the run's own record (sync_runs.started_at → finished_at).
 *
 * The limit: the very rows it wrote, read back into memory, then `COPY … FROM STDIN` into an
 * empty table of the same shape (generated columns and indexes included) — no API, no upsert.
 * Target: backfill >= 50% of the COPY rate. Each round uses a fresh database; the figure is the
 * median of the per-round ratios.
 *
 * Run: npm run bench:stripe-backfill   (BENCH_CUSTOMERS, BENCH_ROUNDS tune it)
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { pipeline } from 'node:stream/promises';
import { Readable, Writable } from 'node:stream';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { startStripeServer } from '../test/support/stripe-server.ts';
import { freshDatabase, median, pinned } from './support.ts';

const CUSTOMERS = Number(process.env['BENCH_CUSTOMERS'] ?? 100_000);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const CLI = fileURLToPath(new URL('../bin/plugboard.js', import.meta.url));
const COLUMNS = 'id, data, is_deleted, stripe_at, last_event_id, synced_at';

function backfill(env: Record<string, string>): Promise<void> {
  const [command, ...args] = pinned(1, [process.execPath, CLI, 'stripe', 'backfill', '--resource', 'customers']);
  return new Promise((resolve, reject) => {
    const child = spawn(command!, args, { env: { PATH: process.env['PATH'] ?? '', ...env } });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`backfill exited ${code}:\n${output}`))));
  });
}

/** Reads the backfilled rows into memory, then times a raw COPY of them into a twin table. */
async function copyRate(db: pg.Client): Promise<number> {
  const chunks: Buffer[] = [];
  await pipeline(
    db.query(copyTo(`COPY (SELECT ${COLUMNS} FROM stripe.customers) TO STDOUT`)),
    new Writable({
      write: (chunk: Buffer, _encoding, done) => {
        chunks.push(chunk);
        done();
      },
    }),
  );
  await db.query('CREATE SCHEMA copy_target; CREATE TABLE copy_target.customers (LIKE stripe.customers INCLUDING ALL)');
  const started = performance.now();
  await pipeline(Readable.from(chunks), db.query(copyFrom(`COPY copy_target.customers (${COLUMNS}) FROM STDIN`)));
  const seconds = (performance.now() - started) / 1000;
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM copy_target.customers');
  if (rows[0]!.n !== CUSTOMERS) throw new Error(`COPY wrote ${rows[0]!.n} rows, expected ${CUSTOMERS}`);
  return CUSTOMERS / seconds;
}

const stripe = await startStripeServer();
stripe.seed('customer', CUSTOMERS);
const env = {
  STRIPE_API_KEY: stripe.apiKey,
  STRIPE_WEBHOOK_SECRET: `whsec_${randomBytes(16).toString('hex')}`,
  STRIPE_API_BASE_URL: stripe.url,
  STRIPE_SYNC_INTERVAL: '0',
};

console.log(`Stripe backfill — ${CUSTOMERS} customers from the local Stripe stand-in, ${ROUNDS} rounds`);
const backfillRates: number[] = [];
const copyRates: number[] = [];
try {
  for (let round = 0; round < ROUNDS; round++) {
    const database = await freshDatabase('bench_backfill');
    try {
      const url = database.url;
      await backfill({ ...env, DATABASE_URL: url });
      const db = new pg.Client({ connectionString: url });
      await db.connect();
      try {
        const { rows } = await db.query<{ seconds: number; rows: number }>(
          "SELECT extract(epoch FROM finished_at - started_at)::float8 AS seconds, (SELECT count(*)::int FROM stripe.customers) AS rows FROM stripe.sync_runs WHERE status = 'completed'",
        );
        if (rows[0]?.rows !== CUSTOMERS)
          throw new Error(`backfill wrote ${rows[0]?.rows} customers, expected ${CUSTOMERS}`);
        backfillRates.push(CUSTOMERS / rows[0].seconds);
        copyRates.push(await copyRate(db));
      } finally {
        await db.end();
      }
    } finally {
      await database.drop();
    }
    const i = backfillRates.length - 1;
    console.log(
      `  round ${round + 1}: backfill ${backfillRates[i]!.toFixed(0)} rows/s, COPY ${copyRates[i]!.toFixed(0)} rows/s, ${((backfillRates[i]! / copyRates[i]!) * 100).toFixed(1)} %`,
    );
  }
} finally {
  await stripe.close();
}
const ratios = backfillRates.map((rate, i) => rate / copyRates[i]!);
console.log(
  `  backfill ${median(backfillRates).toFixed(0)} rows/s   raw COPY ${median(copyRates).toFixed(0)} rows/s   ratio ${(median(ratios) * 100).toFixed(1)} % (rounds ${ratios.map((r) => (r * 100).toFixed(0)).join(', ')} %; target >= 50 %)`,
);
