/**
 * Stripe webhooks: signed events applied per second at concurrency 64, ack after commit.
 *
 * Events: made once by the local Stripe stand-in (test/support/stripe-server.ts) — customers
 * created and changed, products, prices, subscriptions created and changed, invoices, payment
 * intents, charges: BENCH_EVENTS (5,000) in all, types the peer applies without calling the API.
 * The same bodies, signed with the same secret just before each run, go to both servers:
 *
 * - Plugboard (`plugboard serve`): acks 200 once the event is committed to `stripe.events`,
 *   then applies it; "applied" = every event `processed` (polled every 20 ms).
 * - @supabase/stripe-sync-engine (bench/peers/stripe-sync-engine-server.ts): `processWebhook`
 *   behind node:http, answering after it applied the event; "applied" = every answer received.
 *
 * 64 senders (BENCH_CONCURRENCY) take the next event from a shared index over keep-alive
 * connections, so events of one object may arrive out of order, as Stripe's do. Both servers
 * run on core 1 with the same pool size (10), each round on two fresh databases, alternating
 * which goes first; the figure is the median of the per-round ratios (BENCH_ROUNDS, 5).
 * Target: Plugboard >= 1.5x the peer.
 *
 * Run: npm run bench:stripe-webhooks
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { startStripeServer, type StripeEvent, type StripeServer } from '../test/support/stripe-server.ts';
import { freshDatabase, inTurn, median, postAll, readyz, untilApplied, startServer, type Server } from './support.ts';

const EVENTS = Number(process.env['BENCH_EVENTS'] ?? 5000);
const CONCURRENCY = Number(process.env['BENCH_CONCURRENCY'] ?? 64);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5);
const SECRET = `whsec_${randomBytes(16).toString('hex')}`;

/** A realistic mix, in the order the stand-in emits it. */
function makeEvents(stripe: StripeServer): { events: StripeEvent[]; customers: number } {
  const share = (fraction: number) => Math.max(1, Math.round(EVENTS * fraction));
  const products = Array.from({ length: share(0.02) }, () => stripe.create('product', {}).object);
  const prices = Array.from(
    { length: share(0.06) },
    (_, i) => stripe.create('price', { product: products[i % products.length]!.id, type: 'recurring' }).object,
  );
  const customers = Array.from({ length: share(0.2) }, () => stripe.create('customer', {}).object);
  for (const customer of customers)
    stripe.update('customer', customer.id, { email: `changed.${customer.id}@example.com` });
  const subscriptions = Array.from(
    { length: share(0.12) },
    (_, i) =>
      stripe.create('subscription', {
        customer: customers[i % customers.length]!.id,
        price: prices[i % prices.length],
        status: 'active',
      }).object,
  );
  for (const subscription of subscriptions.slice(0, share(0.08)))
    stripe.update('subscription', subscription.id, { metadata: { plan: 'changed' } });
  for (let i = 0; i < share(0.12); i++) stripe.create('invoice', { customer: customers[i % customers.length]!.id });
  for (let i = 0; i < share(0.1); i++)
    stripe.create('payment_intent', { customer: customers[i % customers.length]!.id });
  for (let i = 0; i < share(0.1); i++) stripe.create('charge', { customer: customers[i % customers.length]!.id });
  return { events: stripe.events(), customers: customers.length };
}

async function customersIn(url: string): Promise<number> {
  const db = new pg.Client(url);
  await db.connect();
  try {
    return (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM stripe.customers')).rows[0]!.n;
  } finally {
    await db.end();
  }
}

/** One system on a fresh database: events applied per second, and the customers it holds after. */
async function run(
  system: 'plugboard' | 'peer',
  events: StripeEvent[],
  stripe: StripeServer,
): Promise<{ rate: number; customers: number }> {
  const database = await freshDatabase(`bench_wh_${system}`);
  let server: Server | undefined;
  try {
    if (system === 'plugboard') {
      server = await startServer(
        ['bin/plugboard.js', 'serve'],
        {
          DATABASE_URL: database.url,
          LOG_LEVEL: 'warn',
          NODE_ENV: 'production',
          // Documents as text, as before trusted documents (issue 23).
          PLUGBOARD_DOCUMENTS: 'any',
          PLUGBOARD_PLUGINS: 'core,stripe',
          STRIPE_API_KEY: `sk_test_${randomBytes(12).toString('hex')}`,
          STRIPE_WEBHOOK_SECRET: SECRET,
          STRIPE_API_BASE_URL: stripe.url,
          STRIPE_SYNC_INTERVAL: '0',
        },
        readyz,
      );
    } else {
      server = await startServer(
        ['bench/peers/stripe-sync-engine-server.ts'],
        { DATABASE_URL: database.url, STRIPE_WEBHOOK_SECRET: SECRET, POOL_SIZE: '10' },
        (url) => fetch(url),
      );
    }
    const watcher = new pg.Client(database.url);
    await watcher.connect();
    try {
      const started = performance.now();
      const signed = events.map((event) => stripe.signedWebhook(event, SECRET));
      await postAll(system === 'plugboard' ? `${server.url}/webhooks/stripe` : server.url, signed, CONCURRENCY);
      if (system === 'plugboard') {
        await untilApplied(watcher, 'stripe', events.length);
      }
      const rate = events.length / ((performance.now() - started) / 1000);
      return { rate, customers: await customersIn(database.url) };
    } finally {
      await watcher.end();
    }
  } finally {
    await server?.stop();
    await database.drop();
  }
}

const stripe = await startStripeServer();
try {
  const { events, customers } = makeEvents(stripe);
  console.log(
    `Stripe webhooks — ${events.length} signed events (${[...new Set(events.map((e) => e.type))].join(', ')}), concurrency ${CONCURRENCY}, ${ROUNDS} rounds`,
  );
  const ours: number[] = [];
  const peer: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const held: Record<string, number> = {};
    await inTurn(
      round,
      async () => {
        const result = await run('plugboard', events, stripe);
        ours.push(result.rate);
        held['plugboard'] = result.customers;
      },
      async () => {
        const result = await run('peer', events, stripe);
        peer.push(result.rate);
        held['peer'] = result.customers;
      },
    );
    const check =
      held['plugboard'] === customers && held['peer'] === customers
        ? 'both hold every customer'
        : `customers held: ${JSON.stringify(held)}, expected ${customers}`;
    console.log(
      `  round ${round + 1}: plugboard ${ours[round]!.toFixed(0)} events/s, stripe-sync-engine ${peer[round]!.toFixed(0)} events/s, ${(ours[round]! / peer[round]!).toFixed(2)}× (${check})`,
    );
  }
  const ratios = ours.map((rate, i) => rate / peer[i]!);
  console.log(
    `  plugboard ${median(ours).toFixed(0)} events/s applied   stripe-sync-engine ${median(peer).toFixed(0)} events/s   ratio ${median(ratios).toFixed(2)}× (rounds ${ratios.map((r) => r.toFixed(2)).join(', ')}; target >= 1.5×)`,
  );
} finally {
  await stripe.close();
}
