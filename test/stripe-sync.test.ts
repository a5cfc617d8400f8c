/** Stripe sync with the real SDK against the local Stripe stand-in: backfill, resume, incremental. */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { startTestGateway, type TestGateway } from './support/gateway.ts';
import { startStripeServer, type StripeServer } from './support/stripe-server.ts';
import { ADMIN_SECRET } from './support/tokens.ts';

const admin = { 'x-hasura-admin-secret': ADMIN_SECRET };
let db: TestDatabase;
let stripe: StripeServer;
let gateway: TestGateway;

const count = async (table: string, where = 'true') => Number((await db.pool.query<{ n: string }>(`SELECT count(*) AS n FROM stripe.${table} WHERE ${where}`)).rows[0]!.n);

async function sync(args = '') {
  const { body } = await gateway.gql(`mutation { syncStripe${args} { id kind status } }`, { headers: admin });
  expect(body.errors).toBeUndefined();
  const run = body.data!['syncStripe'] as { id: string };
  for (;;) {
    const polled = await gateway.gql('query($id: ID!) { stripeSyncRun(id: $id) { id kind status error counts { resource count } } }', { variables: { id: run.id }, headers: admin });
    const current = polled.body.data!['stripeSyncRun'] as { status: string; kind: string; error: string | null; counts: { resource: string; count: number }[] };
    if (current.status !== 'running') return current;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

beforeAll(async () => {
  db = await createTestDatabase();
  stripe = await startStripeServer();
  gateway = await startTestGateway({
    databaseUrl: db.url,
    env: { STRIPE_API_KEY: stripe.apiKey, STRIPE_WEBHOOK_SECRET: `whsec_${randomBytes(16).toString('hex')}`, STRIPE_API_BASE_URL: stripe.url, STRIPE_SYNC_INTERVAL: '0' },
  });
});

afterAll(async () => {
  await gateway?.close();
  await stripe?.close();
  await db?.drop();
});

describe('stripe sync', () => {
  it('backfills every resource page by page, through injected 429s, and records the run', async () => {
    stripe.seed('customer', 250);
    stripe.seed('product', 3);
    const { object: price } = stripe.create('price', {});
    const { object: subscription } = stripe.create('subscription', {});
    stripe.failNext(2, 429, (path) => path.startsWith('/v1/customers'));
    const run = await sync('(full: true)');
    expect(run).toMatchObject({ kind: 'backfill', status: 'completed', error: null });
    expect(run.counts).toContainEqual({ resource: 'customers', count: stripe.count('customer') });
    expect(await count('customers')).toBe(stripe.count('customer'));
    expect(await count('prices', `id = '${price.id}'`)).toBe(1);
    expect(await count('subscriptions', `id = '${subscription.id}'`)).toBe(1);
    // A subscription's items come with it.
    expect(await count('subscription_items', `subscription = '${subscription.id}'`)).toBeGreaterThan(0);
    expect(stripe.requestCount('/v1/customers')).toBeGreaterThanOrEqual(3 + 2);
  });

  it('resumes an interrupted backfill from its checkpoint without duplicates', async () => {
    stripe.seed('customer', 300);
    // The API refuses a request mid-run (after the first pages): the run fails, the cursor stays.
    let pages = 0;
    stripe.failNext(1, 400, (path) => path.startsWith('/v1/customers') && ++pages > 2);
    const failed = await sync('(full: true, resources: ["customers"])');
    expect(failed.status).toBe('failed');
    const state = await db.pool.query<{ status: string; cursor: string | null }>("SELECT status, cursor FROM stripe.sync_state WHERE resource = 'customers'");
    expect(state.rows[0]).toMatchObject({ status: 'failed' });
    expect(state.rows[0]!.cursor).not.toBeNull();
    const before = stripe.requestCount('/v1/customers');
    const resumed = await sync('(full: true, resources: ["customers"])');
    expect(resumed.status).toBe('completed');
    expect(await count('customers')).toBe(stripe.count('customer'));
    // It continued from the checkpoint instead of listing everything again.
    expect(stripe.requestCount('/v1/customers') - before).toBeLessThan(Math.ceil(stripe.count('customer') / 100));
  });

  it('syncs incrementally from the events list: changes and deletions since the last sync', async () => {
    const { object: created } = stripe.create('customer', { email: 'new@example.com' });
    const victim = stripe.list('customer')[5]!;
    stripe.update('customer', victim.id, { name: 'Renamed' });
    stripe.remove('customer', stripe.list('customer')[7]!.id);
    const run = await sync();
    expect(run).toMatchObject({ kind: 'incremental', status: 'completed' });
    expect(await count('customers', `id = '${created.id}' AND email = 'new@example.com'`)).toBe(1);
    expect(await count('customers', `id = '${victim.id}' AND name = 'Renamed'`)).toBe(1);
    expect(await count('customers', 'is_deleted')).toBe(1);
    expect(await count('events', "status = 'processed'")).toBeGreaterThanOrEqual(3);
  });

  it('reports sync state per resource to admins', async () => {
    const { body } = await gateway.gql('{ stripeSyncStatus { resource status lastSyncAt objectsSynced } }', { headers: admin });
    expect(body.errors).toBeUndefined();
    const states = body.data!['stripeSyncStatus'] as { resource: string; status: string }[];
    expect(states).toContainEqual(expect.objectContaining({ resource: 'customers', status: 'completed' }));
    const anonymous = await gateway.gql('{ stripeSyncStatus { resource } }');
    expect(anonymous.body.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
  });
});
