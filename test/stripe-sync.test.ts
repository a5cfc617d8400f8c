/** Stripe sync with the real SDK against the local Stripe stand-in: backfill, resume, incremental. */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import pg from 'pg';
import { inTransaction } from '../gateway/sql.ts';
import { createSyncStore } from '../gateway/sync/store.ts';
import { stripeSyncTables } from '../plugins/stripe/resources.ts';
import { startTestGateway, type TestGateway } from './support/gateway.ts';
import { startStatementRecorder } from './support/pg-statements.ts';
import { startStripeServer, type StripeServer } from './support/stripe-server.ts';
import { ADMIN_SECRET } from './support/tokens.ts';

const admin = { 'x-hasura-admin-secret': ADMIN_SECRET };
let db: TestDatabase;
let stripe: StripeServer;
let gateway: TestGateway;

const count = async (table: string, where = 'true') =>
  Number((await db.pool.query<{ n: string }>(`SELECT count(*) AS n FROM stripe.${table} WHERE ${where}`)).rows[0]!.n);

async function sync(args = '') {
  const { body } = await gateway.gql(`mutation { syncStripe${args} { id kind status } }`, { headers: admin });
  expect(body.errors).toBeUndefined();
  const run = body.data!['syncStripe'] as { id: string };
  type Run = { status: string; kind: string; error: string | null; counts: { resource: string; count: number }[] };
  const poll = async () =>
    (
      await gateway.gql(
        'query($id: ID!) { stripeSyncRun(id: $id) { id kind status error counts { resource count } } }',
        { variables: { id: run.id }, headers: admin },
      )
    ).body.data!['stripeSyncRun'] as Run;
  await expect.poll(async () => (await poll()).status, { timeout: 30_000 }).not.toBe('running');
  return poll();
}

beforeAll(async () => {
  db = await createTestDatabase();
  stripe = await startStripeServer();
  gateway = await startTestGateway({
    databaseUrl: db.url,
    env: {
      STRIPE_API_KEY: stripe.apiKey,
      STRIPE_WEBHOOK_SECRET: `whsec_${randomBytes(16).toString('hex')}`,
      STRIPE_API_BASE_URL: stripe.url,
      STRIPE_SYNC_INTERVAL: '0',
    },
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
    const state = await db.pool.query<{ status: string; cursor: string | null }>(
      "SELECT status, cursor FROM stripe.sync_state WHERE resource = 'customers'",
    );
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

  it('answers a second syncStripe asked while a run goes on with that run, starting none', async () => {
    // Each API call slow enough that the run still goes on when the second ask arrives.
    stripe.setLatency(200);
    const before = await count('sync_runs');
    const ask = async () => {
      const { body } = await gateway.gql('mutation { syncStripe { id status } }', { headers: admin });
      expect(body.errors).toBeUndefined();
      return body.data!['syncStripe'] as { id: string; status: string };
    };
    const [first, second] = await Promise.all([ask(), ask()]);
    expect(first.status).toBe('running');
    expect(second).toEqual(first);
    await expect
      .poll(() => count('sync_runs', `id = '${first.id}' AND status = 'completed'`), { timeout: 30_000 })
      .toBe(1);
    stripe.setLatency(0);
    expect(await count('sync_runs')).toBe(before + 1);
    // It let go of the lock when it ended: the next run starts.
    expect((await sync()).status).toBe('completed');
    expect(await count('sync_runs')).toBe(before + 2);
  });

  it('reports sync state per resource to admins', async () => {
    const { body } = await gateway.gql('{ stripeSyncStatus { resource status lastSyncAt objectsSynced } }', {
      headers: admin,
    });
    expect(body.errors).toBeUndefined();
    const states = body.data!['stripeSyncStatus'] as { resource: string; status: string }[];
    expect(states).toContainEqual(expect.objectContaining({ resource: 'customers', status: 'completed' }));
    const anonymous = await gateway.gql('{ stripeSyncStatus { resource } }');
    expect(anonymous.body.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
  });

  it('copies a bulk of new rows in (text with tabs, newlines and backslashes intact) and upserts a bulk that meets stored rows', async () => {
    // Through a recording proxy, to see which statement did the writing.
    const target = new URL(db.url);
    const recorder = await startStatementRecorder(target.hostname, Number(target.port || 5432));
    target.port = String(recorder.port);
    const pool = new pg.Pool({ connectionString: target.toString(), max: 1 });
    pool.on('error', () => {}); // the database is dropped after the tests
    const copies = () => recorder.statements().filter((sql) => sql.includes('COPY "stripe"."customers"')).length;
    const tricky = 'tab\there, line\nbreak, back\\slash, quote " and \\N';
    const fresh = Array.from({ length: 250 }, (_, i) => ({
      id: `cus_bulk${i}`,
      object: 'customer',
      created: 1_700_000_000 + i,
      email: `bulk${i}@example.com`,
      description: tricky,
      metadata: {},
    }));
    // The plugin's own tables and store; the API is never asked here.
    const store = createSyncStore(
      stripeSyncTables(() => {
        throw new Error('no API in this test');
      }),
    );
    await inTransaction(pool, (client) =>
      store.write(
        client,
        fresh.map((object) => ({
          table: 'customers',
          object,
          deleted: false,
          versionAt: 1_700_000_500,
          eventId: null,
        })),
        client,
      ),
    );
    expect(copies()).toBe(1);
    const { rows } = await db.pool.query<{ n: number; same: number }>(
      "SELECT count(*)::int AS n, count(*) FILTER (WHERE description = $1 AND email = 'bulk' || substr(id, 9) || '@example.com' AND created = to_timestamp((data->>'created')::int))::int AS same FROM stripe.customers WHERE id LIKE 'cus_bulk%'",
      [tricky],
    );
    expect(rows[0]).toEqual({ n: 250, same: 250 });

    // One of these is stored with a newer state: no COPY (it would fail on the key); the upsert keeps the newer row.
    const mixed = [
      ...fresh.slice(0, 1).map((o) => ({ ...o, email: 'older@example.com' })),
      ...Array.from({ length: 249 }, (_, i) => ({
        id: `cus_bulkb${i}`,
        object: 'customer',
        created: 1_700_000_000,
        metadata: {},
      })),
    ];
    await inTransaction(pool, (client) =>
      store.write(
        client,
        mixed.map((object) => ({
          table: 'customers',
          object,
          deleted: false,
          versionAt: 1_700_000_000,
          eventId: null,
        })),
        client,
      ),
    );
    expect(copies()).toBe(1);
    expect(await count('customers', "id LIKE 'cus_bulkb%'")).toBe(249);
    expect(await count('customers', "id = 'cus_bulk0' AND email = 'bulk0@example.com'")).toBe(1);
    await pool.end();
    await recorder.cut();
  });
});
