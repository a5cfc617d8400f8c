/**
 * The GraphQL API over the synced Stripe tables: lookups, connections with filters, ordering and
 * cursors, relations planned into one statement (SQL statements counted at the wire), and who may read.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { startTestGateway, type TestGateway } from './support/gateway.ts';
import { startStatementRecorder, type StatementRecorder } from './support/pg-statements.ts';
import { syncThroughGraphql } from './support/sync-run.ts';
import { startStripeServer, type StripeObject, type StripeServer } from './support/stripe-server.ts';
import { ADMIN_SECRET, signToken } from './support/tokens.ts';

const admin = { 'x-hasura-admin-secret': ADMIN_SECRET };
let db: TestDatabase;
let recorder: StatementRecorder;
let stripe: StripeServer;
let gateway: TestGateway;
let customers: StripeObject[];
let prices: StripeObject[];
let products: StripeObject[];

interface Connection<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string; endCursor: string };
}

async function data<T = Record<string, unknown>>(
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = admin,
): Promise<T> {
  const { body } = await gateway.gql(query, { variables, headers });
  expect(body.errors).toBeUndefined();
  return body.data as T;
}

const ids = (connection: Connection<{ id: string }>) => connection.edges.map((edge) => edge.node.id);
const dbIds = async (sql: string, params: unknown[] = []) =>
  (await db.pool.query<{ id: string }>(sql, params)).rows.map((row) => row.id);

beforeAll(async () => {
  db = await createTestDatabase();
  const url = new URL(db.url);
  recorder = await startStatementRecorder(url.hostname, Number(url.port || 5432));
  url.port = String(recorder.port);
  stripe = await startStripeServer();
  gateway = await startTestGateway({
    databaseUrl: url.toString(),
    env: {
      STRIPE_API_KEY: stripe.apiKey,
      STRIPE_WEBHOOK_SECRET: `whsec_${randomBytes(16).toString('hex')}`,
      STRIPE_API_BASE_URL: stripe.url,
      STRIPE_SYNC_INTERVAL: '0',
      STRIPE_READ_ROLES: 'support',
    },
  });

  products = stripe.seed('product', 2);
  prices = [0, 1, 2].map((i) => stripe.create('price', { product: products[i % 2]!.id, type: 'recurring' }).object);
  customers = stripe.seed('customer', 60, (i) => ({ email: `Person${i}@Example.com` }));
  customers.slice(0, 50).forEach((customer, i) => {
    stripe.create('subscription', { customer: customer.id, price: prices[i % 3], status: 'active' });
    if (i % 2 === 0)
      stripe.create('subscription', { customer: customer.id, price: prices[(i + 1) % 3], status: 'canceled' });
  });
  const invoice = stripe.create('invoice', { customer: customers[0]!.id, status: 'paid' }).object;
  const intent = stripe.create('payment_intent', { customer: customers[0]!.id, invoice: invoice.id }).object;
  stripe.create('charge', { customer: customers[0]!.id, invoice: invoice.id, payment_intent: intent.id });
  stripe.create('charge', { customer: customers[0]!.id, invoice: null, payment_intent: null });

  expect(await syncThroughGraphql(gateway, admin, 'Stripe', { full: true })).toEqual({
    status: 'completed',
    error: null,
  });
}, 60_000);

afterAll(async () => {
  await gateway?.close();
  await recorder?.cut();
  await stripe?.close();
  await db?.drop();
});

const PAGE_QUERY = `query($first: Int, $after: String) {
  stripeCustomers(first: $first, after: $after) {
    edges { node { id email subscriptions { id status items { quantity price { id unitAmount } } } } }
    pageInfo { hasNextPage endCursor }
  }
}`;

interface PageCustomer {
  id: string;
  email: string | null;
  subscriptions: {
    id: string;
    status: string;
    items: { quantity: number; price: { id: string; unitAmount: number } }[];
  }[];
}

describe('stripe GraphQL', () => {
  it('serves a page of 50 customers with their subscriptions, items and prices in one SQL statement', async () => {
    recorder.reset();
    const { stripeCustomers } = await data<{ stripeCustomers: Connection<PageCustomer> }>(PAGE_QUERY, { first: 50 });
    expect(recorder.statements().filter((sql) => sql.includes('"stripe"."'))).toHaveLength(1);

    expect(stripeCustomers.edges).toHaveLength(50);
    expect(stripeCustomers.pageInfo.hasNextPage).toBe(true);
    expect(ids(stripeCustomers)).toEqual(
      await dbIds('SELECT id FROM stripe.customers ORDER BY created DESC, id DESC LIMIT 50'),
    );
    for (const { node } of stripeCustomers.edges) {
      const expected = stripe.list('subscription').filter((s) => s.customer === node.id);
      expect(node.subscriptions.map((s) => s.id).sort()).toEqual(expected.map((s) => s.id).sort());
      for (const subscription of node.subscriptions) {
        const price = (stripe.get('subscription', subscription.id)!.items as { data: { price: StripeObject }[] })
          .data[0]!.price;
        expect(subscription.items[0]!.price).toMatchObject({ id: price.id, unitAmount: price.unit_amount });
      }
    }
  });

  it('costs one statement whatever the depth and the page size', async () => {
    const deep = `query($first: Int) { stripeCustomers(first: $first) { edges { node { id subscriptions { customer { id } items { price { product { id name } } } } } } } }`;
    for (const first of [50, 100]) {
      recorder.reset();
      const { stripeCustomers } = await data<{
        stripeCustomers: Connection<{
          id: string;
          subscriptions: { customer: { id: string }; items: { price: { product: { id: string; name: string } } }[] }[];
        }>;
      }>(deep, { first });
      expect(recorder.statements().filter((sql) => sql.includes('"stripe"."'))).toHaveLength(1);
      for (const { node } of stripeCustomers.edges) {
        for (const subscription of node.subscriptions) {
          expect(subscription.customer.id).toBe(node.id);
          const product = subscription.items[0]!.price.product;
          expect(product.name).toBe(stripe.get('product', product.id)!.name);
        }
      }
    }
  });

  it('plans aliases with their own page sizes, fragments, variables and whole objects into the same statement', async () => {
    const query = `query($n: Int) { stripeCustomers(first: 10) { edges { node { ...Customer
        ... on StripeCustomer { one: subscriptions(first: 1) { id } }
        all: subscriptions(first: $n) { id created currentPeriodEnd items { quantity price { ...Price } } } } } } }
      fragment Customer on StripeCustomer { id balance metadata data }
      fragment Price on StripePrice { id unitAmount product { id name data } }`;
    type Subscription = {
      id: string;
      created: string;
      currentPeriodEnd: string;
      items: {
        quantity: number;
        price: { id: string; unitAmount: number; product: { id: string; name: string; data: { id: string } } };
      }[];
    };
    type Customer = {
      id: string;
      balance: number;
      metadata: unknown;
      data: { id: string; object: string };
      one: { id: string }[];
      all: Subscription[];
    };
    recorder.reset();
    const { stripeCustomers } = await data<{ stripeCustomers: Connection<Customer> }>(query, { n: 5 });
    expect(recorder.statements().filter((sql) => sql.includes('"stripe"."'))).toHaveLength(1);
    expect(stripeCustomers.edges).toHaveLength(10);
    for (const { node } of stripeCustomers.edges) {
      const original = stripe.get('customer', node.id)!;
      expect(node.data).toMatchObject({ id: node.id, object: 'customer' });
      expect(node.metadata).toEqual(original.metadata);
      expect(node.balance).toBe(original.balance);
      const expected = stripe
        .list('subscription')
        .filter((s) => s.customer === node.id)
        .sort((a, b) => (b.created as number) - (a.created as number) || (b.id < a.id ? -1 : 1));
      expect(node.all.map((s) => s.id)).toEqual(expected.map((s) => s.id));
      expect(node.one).toEqual(node.all.slice(0, 1).map(({ id }) => ({ id })));
      for (const subscription of node.all) {
        const source = stripe.get('subscription', subscription.id)!;
        expect(subscription.created).toBe(new Date((source.created as number) * 1000).toISOString());
        expect(subscription.currentPeriodEnd).toBe(
          new Date((source.current_period_end as number) * 1000).toISOString(),
        );
        const item = (source.items as { data: { quantity: number; price: StripeObject }[] }).data[0]!;
        expect(subscription.items[0]).toMatchObject({
          quantity: item.quantity,
          price: { id: item.price.id, unitAmount: item.price.unit_amount },
        });
        const product = subscription.items[0]!.price.product;
        expect(product).toMatchObject({
          id: item.price.product,
          name: stripe.get('product', product.id)!.name,
          data: { id: product.id },
        });
      }
    }
  });

  it('pages forward and backward with cursors, in either order, without gaps or repeats', async () => {
    const all = await dbIds('SELECT id FROM stripe.customers WHERE NOT is_deleted ORDER BY created DESC, id DESC');
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page: { stripeCustomers: Connection<{ id: string }> } = await data(
        'query($after: String) { stripeCustomers(first: 25, after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } } }',
        { after },
      );
      seen.push(...ids(page.stripeCustomers));
      if (!page.stripeCustomers.pageInfo.hasNextPage) break;
      after = page.stripeCustomers.pageInfo.endCursor;
    }
    expect(seen).toEqual(all);

    const oldest = await data<{ stripeCustomers: Connection<{ id: string }> }>(
      '{ stripeCustomers(first: 5, orderBy: CREATED_ASC) { edges { node { id } } } }',
    );
    expect(ids(oldest.stripeCustomers)).toEqual([...all].reverse().slice(0, 5));

    // The last 5 before the 20th: customers 15…19 of the newest-first order.
    const first20 = await data<{ stripeCustomers: Connection<{ id: string }> }>(
      '{ stripeCustomers(first: 20) { edges { cursor node { id } } } }',
    );
    const before = first20.stripeCustomers.edges[19]!.cursor;
    const back = await data<{ stripeCustomers: Connection<{ id: string }> }>(
      'query($before: String) { stripeCustomers(last: 5, before: $before) { edges { node { id } } pageInfo { hasPreviousPage } } }',
      { before },
    );
    expect(ids(back.stripeCustomers)).toEqual(all.slice(14, 19));
    expect(back.stripeCustomers.pageInfo.hasPreviousPage).toBe(true);
  });

  it('filters each resource by its columns and by a created range', async () => {
    // Only the columns behind the selected fields are read, fields in fragments included.
    const viaFragments = await data<{
      stripeCustomers: Connection<{
        id: string;
        email: string;
        subscriptions: { status: string; customer: { email: string } }[];
      }>;
    }>(
      `query { stripeCustomers(email: "person3@example.com") { edges { node { ...Who ... on StripeCustomer { subscriptions { status customer { ...Who } } } } } } }
       fragment Who on StripeCustomer { id email }`,
    );
    const node = viaFragments.stripeCustomers.edges[0]!.node;
    expect(node).toMatchObject({ id: customers[3]!.id, email: 'Person3@Example.com' });
    expect(node.subscriptions.length).toBeGreaterThan(0);
    expect(node.subscriptions.every((sub) => sub.status && sub.customer.email === 'Person3@Example.com')).toBe(true);

    const byEmail = await data<{ stripeCustomers: Connection<{ id: string; email: string }> }>(
      '{ stripeCustomers(email: "person7@example.COM") { edges { node { id email } } } }',
    );
    expect(byEmail.stripeCustomers.edges.map((e) => e.node)).toEqual([
      { id: customers[7]!.id, email: 'Person7@Example.com' },
    ]);

    const customer = customers[4]!.id;
    const active = await data<{ stripeSubscriptions: Connection<{ id: string; status: string }> }>(
      'query($c: String) { stripeSubscriptions(customer: $c, status: "active") { edges { node { id status } } } }',
      { c: customer },
    );
    expect(ids(active.stripeSubscriptions)).toEqual(
      stripe
        .list('subscription')
        .filter((s) => s.customer === customer && s.status === 'active')
        .map((s) => s.id),
    );

    const created = customers.map((c) => c.created as number).sort((a, b) => a - b);
    const from = new Date(created[10]! * 1000).toISOString();
    const to = new Date(created[40]! * 1000).toISOString();
    const range = await data<{ stripeCustomers: Connection<{ id: string }> }>(
      'query($from: DateTime, $to: DateTime) { stripeCustomers(first: 100, createdFrom: $from, createdTo: $to) { edges { node { id } } } }',
      { from, to },
    );
    expect(ids(range.stripeCustomers).sort()).toEqual(
      (await dbIds('SELECT id FROM stripe.customers WHERE created >= $1 AND created < $2', [from, to])).sort(),
    );
    expect(range.stripeCustomers.edges.length).toBeGreaterThan(0);

    const invoices = await data<{
      stripeInvoices: Connection<{ id: string; status: string; customer: { id: string }; charges: { id: string }[] }>;
    }>(
      'query($c: String) { stripeInvoices(customer: $c, status: "paid", createdTo: "2100-01-01T00:00:00Z") { edges { node { id status customer { id } charges { id } } } } }',
      { c: customers[0]!.id },
    );
    const invoice = invoices.stripeInvoices.edges[0]!.node;
    expect(invoice).toMatchObject({ status: 'paid', customer: { id: customers[0]!.id } });
    expect(invoice.charges.map((c) => c.id)).toEqual(
      stripe
        .list('charge')
        .filter((c) => c.invoice === invoice.id)
        .map((c) => c.id),
    );

    const charges = await data<{ stripeCharges: Connection<{ id: string; paymentIntent: { id: string } | null }> }>(
      'query($c: String) { stripeCharges(customer: $c) { edges { node { id paymentIntent { id } } } } }',
      { c: customers[0]!.id },
    );
    expect(charges.stripeCharges.edges).toHaveLength(2);
    expect(charges.stripeCharges.edges.filter((e) => e.node.paymentIntent !== null)).toHaveLength(1);

    const prices = await data<{ stripePrices: Connection<{ id: string; product: { id: string } }> }>(
      'query($p: String) { stripePrices(product: $p) { edges { node { id product { id } } } } }',
      { p: products[0]!.id },
    );
    expect(ids(prices.stripePrices).sort()).toEqual(
      stripe
        .list('price')
        .filter((p) => p.product === products[0]!.id)
        .map((p) => p.id)
        .sort(),
    );
  });

  it("resolves a customer's relations and its whole object, and keeps deleted objects out of lists but findable by id", async () => {
    const id = customers[0]!.id;
    const { stripeCustomer } = await data<{
      stripeCustomer: {
        id: string;
        email: string;
        data: { object: string; email: string };
        invoices: { id: string }[];
        charges: { id: string }[];
        paymentIntents: { id: string; latestCharge: { id: string } | null }[];
        subscriptions: { id: string }[];
      };
    }>(
      'query($id: ID!) { stripeCustomer(id: $id) { id email data invoices { id } charges(first: 1) { id } paymentIntents { id latestCharge { id } } subscriptions(first: 1) { id } } }',
      { id },
    );
    expect(stripeCustomer.data).toMatchObject({ object: 'customer', email: stripeCustomer.email });
    expect(stripeCustomer.invoices).toHaveLength(1);
    expect(stripeCustomer.charges).toHaveLength(1); // first: 1 of two
    expect(stripeCustomer.paymentIntents).toHaveLength(1);
    expect(stripeCustomer.subscriptions).toHaveLength(1); // first: 1 of two

    const gone = customers[59]!.id;
    await db.pool.query('UPDATE stripe.customers SET is_deleted = true WHERE id = $1', [gone]);
    const all = await data<{ stripeCustomers: Connection<{ id: string }> }>(
      '{ stripeCustomers(first: 100) { edges { node { id } } } }',
    );
    expect(ids(all.stripeCustomers)).not.toContain(gone);
    const found = await data<{ stripeCustomer: { id: string; isDeleted: boolean; created: string } }>(
      'query($id: ID!) { stripeCustomer(id: $id) { id isDeleted created } }',
      { id: gone },
    );
    expect(found.stripeCustomer).toEqual({
      id: gone,
      isDeleted: true,
      created: new Date((customers[59]!.created as number) * 1000).toISOString(),
    });
    const missing = await data<{ stripeCustomer: null }>('{ stripeCustomer(id: "cus_nope") { id } }');
    expect(missing.stripeCustomer).toBeNull();
  });

  it('lets admins and STRIPE_READ_ROLES read, refuses everyone else, and rejects a bad cursor', async () => {
    const support = await signToken({ userId: 'u1', defaultRole: 'support' });
    const seenBySupport = await data<{ stripeCustomers: Connection<{ id: string }> }>(
      '{ stripeCustomers(first: 1) { edges { node { id } } } }',
      {},
      { authorization: `Bearer ${support}` },
    );
    expect(seenBySupport.stripeCustomers.edges).toHaveLength(1);

    const user = await signToken({ userId: 'u2', defaultRole: 'user' });
    for (const headers of [{ authorization: `Bearer ${user}` }, {}] as Record<string, string>[]) {
      const { body } = await gateway.gql(`{ stripeCustomer(id: "${customers[0]!.id}") { id } }`, { headers });
      expect(body.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
      expect(body.data?.['stripeCustomer'] ?? null).toBeNull();
    }

    const { body } = await gateway.gql('{ stripeCustomers(after: "not-a-cursor") { edges { node { id } } } }', {
      headers: admin,
    });
    expect(body.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
  });
});
