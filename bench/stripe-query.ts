/**
 * The Stripe query page against PostGraphile v5 over the same tables.
 *
 * One fresh database holds Plugboard's stripe schema (its migrations) filled through its own
 * writer: BENCH_CUSTOMERS (5,000) customers, 0–3 subscriptions each (most active) with items
 * pointing at 20 prices of 5 products. Two servers read it, each pinned to core 1 with a pool
 * of 10, autocannon on core 0:
 *
 * - Plugboard (`plugboard serve`, admin secret): `stripeCustomers(first: 50)` with each
 *   customer's subscriptions, their items and each item's price (DataLoader, one query per level);
 * - PostGraphile v5, Amber preset (bench/peers/postgraphile-server.ts), relations declared by
 *   smart-tag COMMENTs (no foreign keys to read; `subscriptions` renamed, as it clashes with the
 *   Subscription root type), asked the equivalent query: the same 50 customers in the same order
 *   (created, id descending, deleted ones left out), their live subscriptions newest first (at
 *   most 20), live items, prices (its `id` fields are global node ids; the customer's own id
 *   is `rowId`).
 *
 * Both answers are checked to hold the same customers, subscriptions and items before measuring.
 * Rounds of BENCH_SECONDS (3) per server, alternating which goes first, BENCH_ROUNDS (8); the
 * figure is the median of the per-round ratios. Target: Plugboard >= 1.0x PostGraphile.
 *
 * Run: npm run bench:stripe-query   (BENCH_CUSTOMERS, BENCH_ROUNDS, BENCH_SECONDS, BENCH_CONNECTIONS)
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import autocannon from 'autocannon';
import pg from 'pg';
import { writeStates, type ObjectState } from '../plugins/stripe/store.ts';
import { buildCustomer, buildPrice, buildProduct, buildSubscription, type StripeObject } from '../test/support/stripe-objects.ts';
import { freshDatabase, inTurn, median, readyz, ROOT, startServer, type Server } from './support.ts';

const CUSTOMERS = Number(process.env['BENCH_CUSTOMERS'] ?? 5000);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 8);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 3);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 16);
const ADMIN_SECRET = 'bench-admin-secret-0123';

const PLUGBOARD_QUERY = `query Page { stripeCustomers(first: 50) { edges { node { id email
  subscriptions { id status items { quantity price { id unitAmount currency } } } } } } }`;

const POSTGRAPHILE_QUERY = `query Page { allCustomers(first: 50, orderBy: [CREATED_DESC, PRIMARY_KEY_DESC], condition: { isDeleted: false }) { nodes { rowId email
  stripeSubscriptionsByCustomer(first: 20, orderBy: [CREATED_DESC, PRIMARY_KEY_DESC], condition: { isDeleted: false }) { nodes { id status
    subscriptionItemsBySubscription(condition: { isDeleted: false }) { nodes { quantity priceByPrice { id unitAmount currency } } } } } } } }`;

/** Relations for PostGraphile, which finds no foreign keys to read. */
const SMART_TAGS = `
COMMENT ON TABLE stripe.subscriptions IS E'@name stripe_subscriptions\\n@foreignKey (customer) references stripe.customers (id)';
COMMENT ON TABLE stripe.subscription_items IS E'@foreignKey (subscription) references stripe.subscriptions (id)\\n@foreignKey (price) references stripe.prices (id)';
COMMENT ON TABLE stripe.prices IS E'@foreignKey (product) references stripe.products (id)';`;

const STRIPE_ENV = {
  STRIPE_API_KEY: `sk_test_${randomBytes(12).toString('hex')}`,
  STRIPE_WEBHOOK_SECRET: `whsec_${randomBytes(16).toString('hex')}`,
  STRIPE_API_BASE_URL: 'http://127.0.0.1:9',
  STRIPE_SYNC_INTERVAL: '0',
};

function migrate(url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/plugboard.js', 'migrate'], { cwd: ROOT, env: { PATH: process.env['PATH'] ?? '', DATABASE_URL: url, ...STRIPE_ENV }, stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`plugboard migrate exited ${code}`))));
  });
}

async function fill(url: string): Promise<void> {
  const db = new pg.Client(url);
  await db.connect();
  try {
    const at = Math.floor(Date.now() / 1000);
    const state = (object: StripeObject): ObjectState => ({ object, deleted: false, stripeAt: at, eventId: null });
    const products = Array.from({ length: 5 }, () => buildProduct());
    const prices = Array.from({ length: 20 }, (_, i) => buildPrice({ product: products[i % 5]!.id, type: 'recurring' }));
    await writeStates(db, [...products, ...prices].map(state));
    for (let first = 0; first < CUSTOMERS; first += 1000) {
      const customers = Array.from({ length: Math.min(1000, CUSTOMERS - first) }, () => buildCustomer());
      const subscriptions = customers.flatMap((customer, i) =>
        Array.from({ length: i % 4 }, (_, j) => buildSubscription({ customer: customer.id, price: prices[(i + j) % 20], status: j === 2 ? 'canceled' : 'active' })),
      );
      await writeStates(db, [...customers, ...subscriptions].map(state));
    }
    await db.query(SMART_TAGS);
  } finally {
    await db.end();
  }
}

const post = (url: string, query: string, headers: Record<string, string> = {}) =>
  fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query }) });

interface Shape {
  customers: string[];
  subscriptions: number;
  items: number;
}

/** Both answers must hold the same customers, in order, with as many subscriptions and items. */
async function shapeOf(url: string, query: string, headers: Record<string, string>, pick: (data: Record<string, unknown>) => { id: string; subs: { items: unknown[] }[] }[]): Promise<Shape> {
  const response = await post(url, query, headers);
  const body = (await response.json()) as { data?: Record<string, unknown>; errors?: { message: string }[] };
  if (response.status !== 200 || body.errors) throw new Error(`${url}: ${response.status} ${JSON.stringify(body.errors)}`);
  const customers = pick(body.data!);
  return {
    customers: customers.map((c) => c.id),
    subscriptions: customers.reduce((n, c) => n + c.subs.length, 0),
    items: customers.reduce((n, c) => n + c.subs.reduce((m, s) => m + s.items.length, 0), 0),
  };
}

type Node = Record<string, unknown>;
const plugboardShape = (data: Node) =>
  ((data['stripeCustomers'] as { edges: { node: Node }[] }).edges).map(({ node }) => ({
    id: node['id'] as string,
    subs: (node['subscriptions'] as Node[]).map((s) => ({ items: s['items'] as unknown[] })),
  }));
const postgraphileShape = (data: Node) =>
  ((data['allCustomers'] as { nodes: Node[] }).nodes).map((node) => ({
    id: node['rowId'] as string, // `id` is PostGraphile's global node id
    subs: ((node['stripeSubscriptionsByCustomer'] as { nodes: Node[] }).nodes).map((s) => ({ items: (s['subscriptionItemsBySubscription'] as { nodes: unknown[] }).nodes })),
  }));

async function requestsPerSecond(url: string, query: string, headers: Record<string, string>): Promise<number> {
  const result = await autocannon({
    url: `${url}/graphql`,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query }),
    connections: CONNECTIONS,
    duration: SECONDS,
  });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${url}: ${result.non2xx} non-2xx responses, ${result.errors} errors`);
  return result.requests.average;
}

const database = await freshDatabase('bench_query');
const servers: Server[] = [];
try {
  await migrate(database.url);
  await fill(database.url);
  const plugboard = await startServer(['bin/plugboard.js', 'serve'], { DATABASE_URL: database.url, LOG_LEVEL: 'warn', NODE_ENV: 'production', PLUGBOARD_ADMIN_SECRET: ADMIN_SECRET, PLUGBOARD_PLUGINS: 'core,stripe', ...STRIPE_ENV }, readyz);
  servers.push(plugboard);
  const postgraphile = await startServer(['bench/peers/postgraphile-server.ts'], { DATABASE_URL: database.url, POOL_SIZE: '10', NODE_ENV: 'production' }, (url) => post(url, '{ __typename }'), 120_000);
  servers.push(postgraphile);
  const admin = { 'x-hasura-admin-secret': ADMIN_SECRET };

  const ours = await shapeOf(plugboard.url, PLUGBOARD_QUERY, admin, plugboardShape);
  const theirs = await shapeOf(postgraphile.url, POSTGRAPHILE_QUERY, {}, postgraphileShape);
  if (JSON.stringify(ours) !== JSON.stringify(theirs)) {
    const at = ours.customers.findIndex((id, i) => theirs.customers[i] !== id);
    throw new Error(`The answers differ (first at customer ${at}: ${ours.customers[at]} vs ${theirs.customers[at]}): plugboard ${ours.subscriptions} subscriptions, ${ours.items} items; postgraphile ${theirs.subscriptions}, ${theirs.items}`);
  }
  console.log(`Stripe query — page of 50 customers with subscriptions, items and prices (${ours.subscriptions} subscriptions, ${ours.items} items; same answer from both); ${CUSTOMERS} customers; ${ROUNDS} rounds × ${SECONDS} s, ${CONNECTIONS} connections`);

  const plugboardRates: number[] = [];
  const postgraphileRates: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    await inTurn(
      round,
      async () => plugboardRates.push(await requestsPerSecond(plugboard.url, PLUGBOARD_QUERY, admin)),
      async () => postgraphileRates.push(await requestsPerSecond(postgraphile.url, POSTGRAPHILE_QUERY, {})),
    );
  }
  const ratios = plugboardRates.map((rate, i) => rate / postgraphileRates[i]!);
  console.log(
    `  plugboard ${median(plugboardRates).toFixed(0)} req/s   postgraphile ${median(postgraphileRates).toFixed(0)} req/s   ratio ${median(ratios).toFixed(2)}× (rounds ${ratios.map((r) => r.toFixed(2)).join(', ')}; target >= 1.0×)`,
  );
} finally {
  for (const server of servers) await server.stop();
  await database.drop();
}
