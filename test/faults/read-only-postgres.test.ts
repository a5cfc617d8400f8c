/**
 * Fault: the gateway's database turns read-only (`default_transaction_read_only`, as after a
 * failover to a standby or an operator's freeze) while webhooks and mutations arrive. Writes are
 * refused with 503 SERVICE_UNAVAILABLE naming the cause, reads go on, nothing is half written,
 * and once the database takes writes again everything acknowledged is applied.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { printFigures } from '../support/fault-load.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { buildCustomer, buildEvent } from '../support/stripe-objects.ts';
import { signedWebhook } from '../support/stripe-server.ts';
import { ADMIN_SECRET } from '../support/tokens.ts';

const WEBHOOK_SECRET = `whsec_${randomBytes(16).toString('hex')}`;
const admin = { 'x-hasura-admin-secret': ADMIN_SECRET };
const READ_ONLY = 'The database is read-only now and takes no writes; retry later.';

let db: TestDatabase;
let gateway: TestGateway;
let name: string;

beforeAll(async () => {
  db = await createTestDatabase();
  name = new URL(db.url).pathname.slice(1);
  gateway = await startTestGateway({
    databaseUrl: db.url,
    env: {
      PLUGBOARD_PLUGINS: 'stripe,echo',
      STRIPE_API_KEY: `sk_test_${randomBytes(12).toString('hex')}`,
      STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      STRIPE_API_BASE_URL: 'http://127.0.0.1:9',
      STRIPE_SYNC_INTERVAL: '0',
    },
  });
});

afterAll(async () => {
  await gateway?.close();
  await db?.drop();
});

async function deliver(event: { id: string }) {
  const { body, headers } = signedWebhook(event, WEBHOOK_SECRET);
  const response = await fetch(`${gateway.url}/webhooks/stripe`, { method: 'POST', headers, body });
  const json = (await response.json()) as { errors?: { message: string; extensions: { code: string } }[] };
  return { status: response.status, error: json.errors?.[0] };
}

const echo = (body: string) =>
  gateway.gql('mutation ($b: String!) { echo(body: $b) { id } }', { variables: { b: body }, headers: admin });
const newEvent = () => buildEvent({ type: 'customer.created', object: buildCustomer() });

/** Sets the database's default for new sessions and ends the gateway's sessions, which reconnect under it. */
async function readOnly(on: boolean): Promise<void> {
  await db.pool.query(`ALTER DATABASE ${pg.escapeIdentifier(name)} SET default_transaction_read_only = ${on}`);
  await db.pool.query(
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name LIKE 'plugboard%'",
    [name],
  );
}

const counts = async () =>
  (
    await db.pool.query<{ events: number; messages: number; customers: number }>(
      `SELECT (SELECT count(*)::int FROM stripe.events) AS events,
              (SELECT count(*)::int FROM echo.messages) AS messages,
              (SELECT count(*)::int FROM stripe.customers) AS customers`,
    )
  ).rows[0]!;

it('refuses writes with 503 SERVICE_UNAVAILABLE naming read-only, writes nothing, serves reads, and applies all once writable', async () => {
  const acknowledged: string[] = [];
  for (let i = 0; i < 20; i++) {
    const event = newEvent();
    expect((await deliver(event)).status).toBe(200);
    acknowledged.push(event.id);
  }

  // Acknowledged and not applied yet when the database stops taking writes.
  const { rows: waiting } = await db.pool.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM stripe.events WHERE status = 'received'",
  );
  const started = Date.now();
  await readOnly(true);
  // A request racing the sessions' end may see them cut (also a 503); then every write is refused as read-only.
  await expect.poll(async () => (await echo('probe')).body.errors?.[0]?.message).toBe(READ_ONLY);
  const before = await counts();
  const refusedEvents = Array.from({ length: 20 }, newEvent);
  const answers = await Promise.all(refusedEvents.map(deliver));
  for (const answer of answers) {
    expect(answer).toEqual({
      status: 503,
      error: { message: `The webhook could not be stored: ${READ_ONLY}`, extensions: { code: 'SERVICE_UNAVAILABLE' } },
    });
  }
  const mutations = await Promise.all(Array.from({ length: 20 }, (_, i) => echo(`refused-${i}`)));
  for (const mutation of mutations) {
    expect(mutation.status).toBe(503);
    expect(mutation.body.errors).toEqual([
      expect.objectContaining({ message: READ_ONLY, extensions: { code: 'SERVICE_UNAVAILABLE' } }),
    ]);
  }
  // Reads need no write: answered as ever.
  const read = await gateway.gql('{ echoCount }', { headers: admin });
  expect(read).toMatchObject({ status: 200, body: { data: { echoCount: before.messages } } });
  // Nothing was half written: no event, message or customer row appeared while refusing.
  expect(await counts()).toEqual(before);

  await readOnly(false);
  const writable = Date.now();
  // Stripe delivers a refused event again; once the database takes writes, each is acknowledged.
  await expect.poll(async () => (await deliver(refusedEvents[0]!)).status).toBe(200);
  const recovered = Date.now();
  for (const event of refusedEvents) expect((await deliver(event)).status).toBe(200);
  acknowledged.push(...refusedEvents.map((event) => event.id));
  const applied = async () =>
    (
      await db.pool.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM stripe.events WHERE id = ANY($1) AND status = 'processed'",
        [acknowledged],
      )
    ).rows[0]!.n;
  await expect.poll(applied, { timeout: 20_000 }).toBe(acknowledged.length);
  const after = await counts();
  expect(after.customers).toBe(acknowledged.length);
  expect(after.messages).toBe(before.messages);

  printFigures({
    fault: 'Postgres read-only (default_transaction_read_only, sessions reconnected)',
    load: `${acknowledged.length} webhooks and 20 mutations, sequential and in bursts of 20 (${((writable - started) / 1000).toFixed(1)} s read-only)`,
    inFlight: waiting[0]!.n,
    acknowledged: acknowledged.length,
    applied: await applied(),
    lost: acknowledged.length - (await applied()),
    duplicated: after.customers - acknowledged.length,
    recovery: `${recovered - writable} ms to the first acknowledged write`,
  });
});
