/**
 * The Stripe query planner writes SQL from static identifiers (views.ts) and validated integers
 * only; everything a client sends (ids, filters, cursors) travels as a bound parameter. Hostile
 * aliases, argument values and cursors are sent through the Stripe fields, and the statements
 * that reach Postgres are read at the wire: no hostile text is ever part of one.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { startTestGateway, type GraphQLBody, type TestGateway } from './support/gateway.ts';
import { startStatementRecorder, type StatementRecorder } from './support/pg-statements.ts';
import { startStripeServer, type StripeObject, type StripeServer } from './support/stripe-server.ts';
import { ADMIN_SECRET } from './support/tokens.ts';

const admin = { 'x-hasura-admin-secret': ADMIN_SECRET };
let db: TestDatabase;
let recorder: StatementRecorder;
let stripe: StripeServer;
let gateway: TestGateway;
let customers: StripeObject[];

/** Values that would change a statement built by concatenation. Each names the marker it carries. */
const HOSTILE = [
  "' OR '1'='1",
  "x'; DROP TABLE stripe.customers; --",
  'x"; DROP TABLE stripe.customers; --',
  '*/ OR 1=1 /*',
  '-- OR 1=1',
  '$1 OR 1=1',
  "\\'; DROP TABLE stripe.customers; --",
  '$$; DROP TABLE stripe.customers; $$',
  "') OR ('1'='1",
  "%' OR email LIKE '%",
];
/** Text none of the statements may contain. */
const MARKERS = ['DROP TABLE', "'1'='1", '1=1', 'LIKE', '$$'];

const gql = async (query: string, variables: Record<string, unknown> = {}): Promise<GraphQLBody> =>
  (await gateway.gql(query, { variables, headers: admin })).body;
const cursorOf = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const customerCount = async () =>
  (await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM stripe.customers')).rows[0]!.n;
const codes = (body: GraphQLBody) => (body.errors ?? []).map((error) => error.extensions?.['code']);

/** Runs `send` while recording, and checks the statements it caused carry no hostile text. */
async function recorded<T>(send: () => Promise<T>): Promise<T> {
  recorder.reset();
  const result = await send();
  const statements = recorder.statements().filter((sql) => sql.includes('"stripe"."'));
  for (const sql of statements) {
    for (const text of [...HOSTILE, ...MARKERS])
      expect(sql.includes(text), `${JSON.stringify(text)} in ${sql}`).toBe(false);
  }
  return result;
}

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
    },
  });
  const products = stripe.seed('product', 1);
  const price = stripe.create('price', { product: products[0]!.id, type: 'recurring', lookup_key: 'basic' }).object;
  customers = stripe.seed('customer', 6, (i) => ({ email: `person${i}@example.com` }));
  for (const customer of customers) stripe.create('subscription', { customer: customer.id, price, status: 'active' });
  const started = await gql('mutation { syncStripe(full: true) { id } }');
  const runId = (started.data!['syncStripe'] as { id: string }).id;
  await vi.waitFor(
    async () =>
      expect(
        (await db.pool.query<{ status: string }>('SELECT status FROM stripe.sync_runs WHERE id = $1', [runId])).rows[0]!
          .status,
      ).toBe('completed'),
    { timeout: 30_000, interval: 50 },
  );
}, 60_000);

afterAll(async () => {
  await gateway?.close();
  await recorder?.cut();
  await stripe?.close();
  await db?.drop();
});

describe('hostile argument values are bound parameters', () => {
  test.each(HOSTILE)('lookups by id: %s', async (hostile) => {
    const body = await recorded(() =>
      gql(
        'query($id: ID!) { stripeCustomer(id: $id) { id } stripeSubscription(id: $id) { id } stripePrice(id: $id) { id } }',
        { id: hostile },
      ),
    );
    expect(body).toEqual({ data: { stripeCustomer: null, stripeSubscription: null, stripePrice: null } });
  });

  test.each(HOSTILE)('the same value written inline in the document: %s', async (hostile) => {
    const body = await recorded(() =>
      gql(
        `{ stripeCustomer(id: ${JSON.stringify(hostile)}) { id } stripeCustomers(email: ${JSON.stringify(hostile)}) { edges { node { id } } } }`,
      ),
    );
    expect(body).toEqual({ data: { stripeCustomer: null, stripeCustomers: { edges: [] } } });
  });

  test.each(HOSTILE)('connection filters: %s', async (hostile) => {
    const body = await recorded(() =>
      gql(
        `query($v: String) {
          stripeCustomers(email: $v) { edges { node { id } } }
          stripeSubscriptions(status: $v, customer: $v) { edges { node { id } } }
          stripeInvoices(customer: $v, subscription: $v, status: $v) { edges { node { id } } }
          stripePrices(lookupKey: $v, product: $v, type: $v) { edges { node { id } } }
          stripeCharges(customer: $v, invoice: $v, paymentIntent: $v, status: $v) { edges { node { id } } }
        }`,
        { v: hostile },
      ),
    );
    expect(body.errors).toBeUndefined();
    expect(Object.values(body.data!).map((connection) => (connection as { edges: unknown[] }).edges)).toEqual([
      [],
      [],
      [],
      [],
      [],
    ]);
  });

  test('a filter still matches its own value (the empty answers above are not a broken filter)', async () => {
    const body = await recorded(() =>
      gql(
        'query($v: String) { stripeCustomers(email: $v) { edges { node { id } } } stripePrices(lookupKey: "basic") { edges { node { id } } } }',
        { v: 'PERSON2@example.com' },
      ),
    );
    expect(body).toEqual({
      data: {
        stripeCustomers: { edges: [{ node: { id: customers[2]!.id } }] },
        stripePrices: { edges: [{ node: { id: expect.any(String) } }] },
      },
    });
  });
});

describe('hostile cursors', () => {
  const page =
    'query($after: String, $before: String) { stripeCustomers(first: 10, after: $after, before: $before) { edges { node { id } } } }';

  test.each(HOSTILE)('a cursor that is not one is BAD_USER_INPUT: %s', async (hostile) => {
    for (const cursor of [
      hostile,
      Buffer.from(hostile).toString('base64url'),
      cursorOf({ at: hostile, id: hostile }),
      cursorOf([hostile]),
    ]) {
      const body = await recorded(() => gql(page, { after: cursor }));
      expect(codes(body), cursor).toEqual(['BAD_USER_INPUT']);
      expect(body.data?.['stripeCustomers'] ?? null).toBeNull();
    }
  });

  test.each(HOSTILE)('a well-formed cursor with a hostile id pages by it, bound: %s', async (hostile) => {
    const { rows } = await db.pool.query<{ at: string }>(
      'SELECT created::text AS at FROM stripe.customers ORDER BY created DESC, id DESC OFFSET 2 LIMIT 1',
    );
    const at = rows[0]!.at;
    const expected = (
      await db.pool.query<{ id: string }>(
        'SELECT id FROM stripe.customers WHERE (created, id) < ($1::timestamptz, $2::text) ORDER BY created DESC, id DESC',
        [at, hostile],
      )
    ).rows.map((row) => ({ node: { id: row.id } }));
    const body = await recorded(() => gql(page, { after: cursorOf([at, hostile]) }));
    expect(body).toEqual({ data: { stripeCustomers: { edges: expected } } });
  });

  test.each([...HOSTILE, '2026-02-30 00:00:00+00', '2026-01-01 24:00:00+00', '2026-01-01', 'now', 'infinity'])(
    'a well-formed cursor with a hostile or impossible time is BAD_USER_INPUT, not run: %s',
    async (hostile) => {
      for (const variables of [
        { after: cursorOf([hostile, 'cus_x']) },
        { before: cursorOf([`2026-01-01 00:00:00+00${hostile}`, 'cus_x']) },
      ]) {
        const body = await recorded(() => gql(page, variables));
        expect(codes(body), JSON.stringify(body)).toEqual(['BAD_USER_INPUT']);
        expect(body.data?.['stripeCustomers'] ?? null).toBeNull();
      }
    },
  );

  test('every other keyset connection refuses a cursor with a bad time as BAD_USER_INPUT too', async () => {
    const after = cursorOf(["2026-01-01 00:00:00+00' OR '1'='1", 'x']);
    const asUser = { ...admin, 'x-hasura-user-id': 'cursor-user' };
    for (const field of ['notifications', 'myRooms', 'jobs', 'webhookEvents(plugin: "stripe", ']) {
      const call = field.endsWith(', ') ? `${field}after: $after)` : `${field}(after: $after)`;
      const { body } = await gateway.gql(`query($after: String) { ${call} { edges { cursor } } }`, {
        variables: { after },
        headers: asUser,
      });
      expect(codes(body), `${field}: ${JSON.stringify(body)}`).toEqual(['BAD_USER_INPUT']);
    }
  });

  test('a cursor the gateway wrote still pages (the time check takes what Postgres and Date write)', async () => {
    const first = await gql('{ stripeCustomers(first: 2) { edges { cursor node { id } } pageInfo { endCursor } } }');
    const endCursor = (first.data!['stripeCustomers'] as { pageInfo: { endCursor: string } }).pageInfo.endCursor;
    const rest = await gql(
      'query($after: String) { stripeCustomers(first: 10, after: $after) { edges { node { id } } } }',
      { after: endCursor },
    );
    expect(rest.errors).toBeUndefined();
    expect((rest.data!['stripeCustomers'] as { edges: unknown[] }).edges).toHaveLength(customers.length - 2);
    const iso = await gql(
      'query($after: String) { stripeCustomers(first: 10, after: $after) { edges { node { id } } } }',
      { after: cursorOf([new Date(Date.now() + 3_600_000).toISOString(), 'x']) },
    );
    expect((iso.data!['stripeCustomers'] as { edges: unknown[] }).edges).toHaveLength(customers.length);
  });
});

describe('hostile aliases and page sizes', () => {
  test('aliases never reach the statement, and each gets its own field', async () => {
    const long = (end: string) => `a${'x'.repeat(120)}${end}`;
    const query = `{
      __proto__: stripeCustomer(id: "${customers[0]!.id}") { id }
      constructor: stripeCustomer(id: "${customers[1]!.id}") { id: email email: id }
      DROP: stripeCustomers(first: 2, orderBy: CREATED_ASC) { edges { cursor_at: cursor node { data: id id: email t: subscriptions(first: 1) { id } } } }
      ${long('1')}: stripeCustomers(email: "person3@example.com") { edges { node { id } } }
      ${long('2')}: stripeCustomers(email: "person4@example.com") { edges { node { id } } }
    }`;
    const response = await recorded(() =>
      fetch(gateway.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...admin },
        body: JSON.stringify({ query }),
      }),
    );
    const text = await response.text();
    const statements = recorder.statements().filter((sql) => sql.includes('"stripe"."'));
    expect(statements.length).toBeGreaterThan(0);
    for (const alias of ['__proto__', 'constructor', 'DROP', 'cursor_at', long('')]) {
      for (const sql of statements)
        expect(sql.includes(`"${alias}"`) || sql.includes(long('')), `${alias} in ${sql}`).toBe(false);
    }
    // JSON.parse keeps "__proto__" as an own key, as any client's parser would see it.
    const body = JSON.parse(text) as { data: Record<string, unknown>; errors?: unknown };
    expect(body.errors).toBeUndefined();
    expect(Object.keys(body.data).sort()).toEqual(['__proto__', 'constructor', 'DROP', long('1'), long('2')].sort());
    // biome-ignore lint/suspicious/noProto: the test reads an own key a client named __proto__, not the prototype
    expect(body.data['__proto__']).toEqual({ id: customers[0]!.id });
    expect(body.data['constructor']).toEqual({ id: 'person1@example.com', email: customers[1]!.id });
    const oldest = (
      await db.pool.query<{ id: string; email: string }>(
        'SELECT id, email FROM stripe.customers ORDER BY created, id LIMIT 2',
      )
    ).rows;
    const drop = body.data['DROP'] as {
      edges: { cursor_at: string; node: { data: string; id: string; t: { id: string }[] } }[];
    };
    expect(drop.edges.map((edge) => ({ data: edge.node.data, id: edge.node.id }))).toEqual(
      oldest.map((row) => ({ data: row.id, id: row.email })),
    );
    expect(drop.edges.every((edge) => edge.node.t.length === 1 && typeof edge.cursor_at === 'string')).toBe(true);
    expect(body.data[long('1')]).toEqual({ edges: [{ node: { id: customers[3]!.id } }] });
    expect(body.data[long('2')]).toEqual({ edges: [{ node: { id: customers[4]!.id } }] });
  });

  test.each([
    ['a negative page size', -1, 'BAD_USER_INPUT'],
    ['the largest Int', 2147483647, null],
  ])('%s on a relation is refused or clamped, never written as given', async (_name, first, code) => {
    const body = await recorded(() =>
      gql('query($n: Int) { stripeCustomers(first: 1) { edges { node { subscriptions(first: $n) { id } } } } }', {
        n: first,
      }),
    );
    if (code) expect(codes(body)).toEqual([code]);
    else expect(body.errors).toBeUndefined();
    for (const sql of recorder.statements()) expect(sql.includes(String(first))).toBe(false);
  });

  test('the tables are whole after all of the above', async () => {
    expect(await customerCount()).toBe(customers.length);
    expect((await db.pool.query("SELECT to_regclass('stripe.customers') IS NOT NULL AS present")).rows[0]).toEqual({
      present: true,
    });
  });
});
