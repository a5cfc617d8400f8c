/**
 * Stripe webhooks that only the API can settle (two events of one object in the same second
 * that the events themselves cannot order). The API is never called inside the apply
 * transaction: such an event is set aside and settled alone, so while the API is slow or down
 * the events delivered beside it apply at once. The API is the local Stripe stand-in, reached
 * through the real SDK; its failures are injected per object.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { startTestGateway, type TestGateway } from './support/gateway.ts';
import { startStripeServer, type StripeServer } from './support/stripe-server.ts';

const WEBHOOK_SECRET = `whsec_${randomBytes(16).toString('hex')}`;
const MAX_ATTEMPTS = 2;
const clock = Math.floor(Date.now() / 1000) - 3600;

let db: TestDatabase;
let stripe: StripeServer;
let gateway: TestGateway;

const newId = (prefix: string) => `${prefix}_${randomBytes(8).toString('hex')}`;

function event(type: string, object: Record<string, unknown>, created: number, previous?: Record<string, unknown>) {
  return {
    id: newId('evt'),
    object: 'event',
    api_version: '2026-10-28.endive',
    created,
    data: { object, ...(previous ? { previous_attributes: previous } : {}) },
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
  };
}

const customer = (id: string, name: string) => ({ id, object: 'customer', created: clock, name, metadata: {} });

async function deliver(body: unknown): Promise<number> {
  const { body: payload, headers } = stripe.signedWebhook(body, WEBHOOK_SECRET);
  const response = await fetch(`${gateway.url}/webhooks/stripe`, { method: 'POST', headers, body: payload });
  await response.arrayBuffer();
  return response.status;
}

const nameOf = async (customerId: string) =>
  (
    await db.pool.query<{ name: string }>("SELECT data->>'name' AS name FROM stripe.customers WHERE id = $1", [
      customerId,
    ])
  ).rows[0]?.name;

const eventRow = async (eventId: string) =>
  (
    await db.pool.query<{ status: string; attempts: number; last_error: string | null }>(
      'SELECT status, attempts, last_error FROM stripe.events WHERE id = $1',
      [eventId],
    )
  ).rows[0];

/**
 * A customer stored at second `clock` with name A, and an update of the same second whose
 * previous_attributes match neither the stored state nor what it produced (an event between
 * them never arrived): only the API can say which state is current.
 */
async function customerWithAGap(apiName: string) {
  const { object } = stripe.create('customer', { name: apiName });
  expect(await deliver(event('customer.created', customer(object.id, 'A'), clock))).toBe(200);
  await expect.poll(() => nameOf(object.id)).toBe('A');
  return { id: object.id, gap: event('customer.updated', customer(object.id, 'Z'), clock, { name: 'Y' }) };
}

beforeAll(async () => {
  db = await createTestDatabase();
  stripe = await startStripeServer();
  gateway = await startTestGateway({
    databaseUrl: db.url,
    env: {
      STRIPE_API_KEY: stripe.apiKey,
      STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      STRIPE_API_BASE_URL: stripe.url,
      STRIPE_SYNC_INTERVAL: '0',
      STRIPE_WEBHOOK_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
    },
  });
});

afterAll(async () => {
  await gateway?.close();
  await stripe?.close();
  await db?.drop();
});

describe('Stripe events only the API can settle', () => {
  it('sets such an event aside while the API is unreachable: the events beside it apply at once', async () => {
    const { id, gap } = await customerWithAGap('From the API');
    // The SDK retries a reset connection with backoff: four resets keep this one retrieve busy
    // for at least 4 s (0.5 + 0.5 + 1 + 2) before its fifth try gets through.
    stripe.failNext(4, 0, (path) => path === `/v1/customers/${id}`);
    const others = Array.from({ length: 20 }, () => newId('cus'));
    const statuses = await Promise.all([
      deliver(gap),
      ...others.map((other) => deliver(event('customer.created', customer(other, 'Other'), clock))),
    ]);
    expect(statuses.every((status) => status === 200)).toBe(true);

    // Well inside the time the API holds the unsettled event up.
    await expect
      .poll(async () => (await Promise.all(others.map(nameOf))).filter((name) => name === 'Other').length, {
        timeout: 2500,
      })
      .toBe(others.length);
    expect(await nameOf(id)).toBe('A');
    expect((await eventRow(gap.id))?.status).toBe('received');

    // Once the API answers, the set-aside event settles with what the API says.
    await expect.poll(async () => (await eventRow(gap.id))?.status, { timeout: 15_000 }).toBe('processed');
    expect(await nameOf(id)).toBe('From the API');
    expect(stripe.requestCount(`/v1/customers/${id}`, 'GET')).toBe(5);
  });

  it('retries a set-aside event alone and dead-letters it after its attempts while the API stays down', async () => {
    const { id, gap } = await customerWithAGap('Never fetched');
    stripe.failNext(100, 503, (path) => path === `/v1/customers/${id}`, { shouldRetry: false });
    expect(await deliver(gap)).toBe(200);

    await expect.poll(async () => (await eventRow(gap.id))?.status, { timeout: 15_000 }).toBe('failed');
    expect(await eventRow(gap.id)).toMatchObject({ attempts: MAX_ATTEMPTS, last_error: expect.any(String) });
    expect(await nameOf(id)).toBe('A');
    // Each attempt asked the API once (the SDK does not retry what Stripe says not to).
    expect(stripe.requestCount(`/v1/customers/${id}`, 'GET')).toBe(MAX_ATTEMPTS);
  });
});
