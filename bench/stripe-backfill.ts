/**
 * Stripe backfill against the limit of a raw COPY (bench/backfill-comparison.ts says how).
 *
 * The local Stripe stand-in (test/support/stripe-server.ts, in this process) holds BENCH_CUSTOMERS
 * customers (100,000 by default). `plugboard stripe backfill --resource customers` lists them with
 * the real SDK, 100 a page over HTTP, each batch written set-based with its cursor checkpoint.
 *
 * Run: npm run bench:stripe-backfill   (BENCH_CUSTOMERS, BENCH_ROUNDS tune it)
 */
import { randomBytes } from 'node:crypto';
import { startStripeServer } from '../test/support/stripe-server.ts';
import { compareBackfill } from './backfill-comparison.ts';
import { pinning } from './support.ts';

const CUSTOMERS = Number(process.env['BENCH_CUSTOMERS'] ?? 100_000);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);

const stripe = await startStripeServer();
stripe.seed('customer', CUSTOMERS);
const env = {
  STRIPE_API_KEY: stripe.apiKey,
  STRIPE_WEBHOOK_SECRET: `whsec_${randomBytes(16).toString('hex')}`,
  STRIPE_API_BASE_URL: stripe.url,
  STRIPE_SYNC_INTERVAL: '0',
};

console.log(`Stripe backfill — ${CUSTOMERS} customers from the local Stripe stand-in, ${ROUNDS} rounds, ${pinning}`);
try {
  await compareBackfill({
    plugin: 'stripe',
    resource: 'customers',
    schema: 'stripe',
    tables: [
      { table: 'customers', columns: 'id, data, is_deleted, stripe_at, last_event_id, synced_at', rows: CUSTOMERS },
    ],
    rounds: ROUNDS,
    env,
  });
} finally {
  await stripe.close();
}
