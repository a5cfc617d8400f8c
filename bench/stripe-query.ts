/**
 * The Stripe customers page against PostGraphile v5 over the same tables.
 *
 * A fresh database holds Plugboard's stripe schema, created by its migrations and filled through
 * its own writer (the sync core's store): BENCH_CUSTOMERS (5,000) customers, 0–3 subscriptions
 * each (the third one canceled) whose items point at 20 prices of 5 products. Then ANALYZE: this
 * Postgres runs with autovacuum off, and without statistics the planner guesses thousands of rows
 * per customer, prices PostGraphile's single nested statement above jit_above_cost and
 * JIT-compiles it on every request (~60 ms of a ~2 ms query), which measures the missing
 * statistics rather than either server. Servers, checks and rounds: bench/query-comparison.ts.
 *
 * - Plugboard: `stripeCustomers(first: 50)` with each customer's subscriptions, their items and
 *   each item's price (one SQL statement planned from the selection, relations as nested JSON
 *   subqueries);
 * - PostGraphile v5, the relations declared by smart-tag COMMENTs (no foreign keys to read;
 *   `subscriptions` renamed, as it clashes with the Subscription root type), asked the equivalent
 *   query: the same 50 customers in the same order (created, id descending, deleted ones left
 *   out), their live subscriptions newest first (at most 20), their live items newest first (at
 *   most 20), each item's price. Stripe ids are its `rowId` fields (its `id` is a global node id).
 *
 * Run: npm run bench:stripe-query   (BENCH_CUSTOMERS, BENCH_ROUNDS, BENCH_SECONDS, BENCH_CONNECTIONS)
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { ObjectState } from '../gateway/sync/resource.ts';
import { createSyncStore } from '../gateway/sync/store.ts';
import { stripeSyncTables, TABLE_OF_OBJECT } from '../plugins/stripe/resources.ts';
import {
  buildCustomer,
  buildPrice,
  buildProduct,
  buildSubscription,
  type StripeObject,
} from '../test/support/stripe-objects.ts';
import { type Node, runQueryBench } from './query-comparison.ts';
import { runPinnedSelf } from './support.ts';

// autocannon in this process on core 0, as the servers are on core 1 (when pinned).
runPinnedSelf(0);

const CUSTOMERS = Number(process.env['BENCH_CUSTOMERS'] ?? 5000);

const PLUGBOARD_QUERY = `query Page { stripeCustomers(first: 50) { edges { node { id email
  subscriptions { id status items { quantity price { id unitAmount currency } } } } } } }`;

const POSTGRAPHILE_QUERY = `query Page { allCustomers(first: 50, orderBy: [CREATED_DESC, PRIMARY_KEY_DESC], condition: { isDeleted: false }) { nodes { rowId email
  stripeSubscriptionsByCustomer(first: 20, orderBy: [CREATED_DESC, PRIMARY_KEY_DESC], condition: { isDeleted: false }) { nodes { rowId status
    subscriptionItemsBySubscription(first: 20, orderBy: [CREATED_DESC, PRIMARY_KEY_DESC], condition: { isDeleted: false }) { nodes { quantity
      priceByPrice { rowId unitAmount currency } } } } } } } }`;

/** Relations for PostGraphile, which finds no foreign keys to read. */
const SMART_TAGS = `
COMMENT ON TABLE stripe.subscriptions IS E'@name stripe_subscriptions\\n@foreignKey (customer) references stripe.customers (id)';
COMMENT ON TABLE stripe.subscription_items IS E'@foreignKey (subscription) references stripe.subscriptions (id)\\n@foreignKey (price) references stripe.prices (id)';
COMMENT ON TABLE stripe.prices IS E'@foreignKey (product) references stripe.products (id)';`;

const STRIPE_ENV = {
  STRIPE_API_KEY: `sk_test_${randomBytes(12).toString('hex')}`,
  STRIPE_WEBHOOK_SECRET: `whsec_${randomBytes(16).toString('hex')}`,
  STRIPE_API_BASE_URL: 'http://127.0.0.1:9', // nothing listens: the gateway never reaches Stripe
  STRIPE_SYNC_INTERVAL: '0',
};

async function fill(url: string): Promise<void> {
  const db = new pg.Client(url);
  await db.connect();
  try {
    const at = Math.floor(Date.now() / 1000);
    const state = (object: StripeObject): ObjectState => ({
      table: TABLE_OF_OBJECT[object.object]!,
      object,
      deleted: false,
      versionAt: at,
      eventId: null,
    });
    // The plugin's own writer; the API is never asked.
    const store = createSyncStore(
      stripeSyncTables(() => {
        throw new Error('no API in this benchmark');
      }),
    );
    const products = Array.from({ length: 5 }, () => buildProduct());
    const prices = Array.from({ length: 20 }, (_, i) =>
      buildPrice({ product: products[i % 5]!.id, type: 'recurring' }),
    );
    await store.write(db, [...products, ...prices].map(state));
    for (let first = 0; first < CUSTOMERS; first += 1000) {
      const customers = Array.from({ length: Math.min(1000, CUSTOMERS - first) }, () => buildCustomer());
      const subscriptions = customers.flatMap((customer, i) =>
        Array.from({ length: i % 4 }, (_, j) =>
          buildSubscription({
            customer: customer.id,
            price: prices[(i + j) % 20],
            status: j === 2 ? 'canceled' : 'active',
          }),
        ),
      );
      await store.write(db, [...customers, ...subscriptions].map(state));
    }
    await db.query(SMART_TAGS);
    await db.query('ANALYZE');
  } finally {
    await db.end();
  }
}

const priceOf = (price: Node | null) =>
  price
    ? `${String(price['id'] ?? price['rowId'])} ${String(price['unitAmount'])} ${String(price['currency'])}`
    : 'none';
/** The page as plain data, whichever server answered: customers with their subscriptions, items and prices. */
interface PageCustomer {
  id: string;
  email: string | null;
  subscriptions: { id: string; status: string | null; items: { quantity: string; price: string }[] }[];
}

const plugboardPage = (data: Node): PageCustomer[] =>
  (data['stripeCustomers'] as { edges: { node: Node }[] }).edges.map(({ node }) => ({
    id: node['id'] as string,
    email: node['email'] as string | null,
    subscriptions: (node['subscriptions'] as Node[]).map((s) => ({
      id: s['id'] as string,
      status: s['status'] as string | null,
      items: (s['items'] as Node[]).map((i) => ({
        quantity: String(i['quantity']),
        price: priceOf(i['price'] as Node | null),
      })),
    })),
  }));
const postgraphilePage = (data: Node): PageCustomer[] =>
  (data['allCustomers'] as { nodes: Node[] }).nodes.map((node) => ({
    id: node['rowId'] as string,
    email: node['email'] as string | null,
    subscriptions: (node['stripeSubscriptionsByCustomer'] as { nodes: Node[] }).nodes.map((s) => ({
      id: s['rowId'] as string,
      status: s['status'] as string | null,
      items: (s['subscriptionItemsBySubscription'] as { nodes: Node[] }).nodes.map((i) => ({
        quantity: String(i['quantity']),
        price: priceOf(i['priceByPrice'] as Node | null),
      })),
    })),
  }));

const countSubscriptions = (page: PageCustomer[]) => page.reduce((n, c) => n + c.subscriptions.length, 0);
const countItems = (page: PageCustomer[]) =>
  page.reduce((n, c) => n + c.subscriptions.reduce((m, s) => m + s.items.length, 0), 0);

await runQueryBench<PageCustomer[]>({
  title: `Stripe query — page of 50 customers with subscriptions, items and prices; ${CUSTOMERS} customers`,
  schema: 'stripe',
  env: { PLUGBOARD_PLUGINS: 'core,stripe', ...STRIPE_ENV },
  fill,
  plugboard: { query: PLUGBOARD_QUERY, page: plugboardPage },
  postgraphile: { query: POSTGRAPHILE_QUERY, page: postgraphilePage },
  shape: (page) => `${page.length} customers, ${countSubscriptions(page)} subscriptions, ${countItems(page)} items`,
});
