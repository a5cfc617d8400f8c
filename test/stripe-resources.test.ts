/**
 * Every synced resource through its webhooks: the local Stripe stand-in creates, changes and
 * deletes (or cancels, closes: what Stripe allows for the resource) objects, and the events it
 * emits, signed, go to the gateway; each table must then hold what the API holds.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { startTestGateway, type TestGateway } from './support/gateway.ts';
import {
  startStripeServer,
  type Mutation,
  type StripeEvent,
  type StripeObject,
  type StripeResourceType,
  type StripeServer,
} from './support/stripe-server.ts';

let db: TestDatabase;
let stripe: StripeServer;
let gateway: TestGateway;
const secret = `whsec_${randomBytes(16).toString('hex')}`;

interface Row {
  data: StripeObject;
  is_deleted: boolean;
}

const rowOf = async (table: string, id: string) =>
  (await db.pool.query<Row>(`SELECT data, is_deleted FROM stripe.${table} WHERE id = $1`, [id])).rows[0];

/** Delivers the events, signed, in order, and waits until each is applied. */
async function deliver(...events: StripeEvent[]): Promise<void> {
  for (const event of events) {
    const { body, headers } = stripe.signedWebhook(event, secret);
    const response = await fetch(`${gateway.url}/webhooks/stripe`, { method: 'POST', headers, body });
    expect(response.status).toBe(200);
  }
  for (const event of events) {
    const row = async () =>
      (
        await db.pool.query<{ status: string; last_error: string | null }>(
          'SELECT status, last_error FROM stripe.events WHERE id = $1',
          [event.id],
        )
      ).rows[0];
    // Until it is processed or failed for good (a failed event is final: it is reported at once).
    await expect
      .poll(async () => (await row())?.status, { timeout: 10_000, interval: 25 })
      .toMatch(/^(processed|failed)$/);
    expect(await row(), `event ${event.id} (${event.type})`).toMatchObject({ status: 'processed' });
  }
}

beforeAll(async () => {
  db = await createTestDatabase();
  stripe = await startStripeServer();
  gateway = await startTestGateway({
    databaseUrl: db.url,
    env: {
      STRIPE_API_KEY: stripe.apiKey,
      STRIPE_WEBHOOK_SECRET: secret,
      STRIPE_API_BASE_URL: stripe.url,
      STRIPE_SYNC_INTERVAL: '0',
    },
  });
}, 60_000);

afterAll(async () => {
  await gateway?.close();
  await stripe?.close();
  await db?.drop();
});

interface Case {
  type: StripeResourceType;
  table: string;
  create?: Record<string, unknown>;
  change: Record<string, unknown>;
  /** How the object ends: deleted (`remove`), or a final change (cancel, close, refund). */
  end: 'remove' | Record<string, unknown>;
  /** What the row must show at the end. */
  ended: (row: Row) => void;
}

const deleted = (row: Row) => expect(row.is_deleted).toBe(true);

const CASES: Case[] = [
  { type: 'customer', table: 'customers', change: { email: 'changed@example.com' }, end: 'remove', ended: deleted },
  { type: 'product', table: 'products', change: { name: 'Renamed' }, end: 'remove', ended: deleted },
  { type: 'price', table: 'prices', change: { nickname: 'Renamed' }, end: 'remove', ended: deleted },
  {
    type: 'subscription',
    table: 'subscriptions',
    create: { status: 'active' },
    change: { cancel_at_period_end: true },
    end: 'remove',
    ended: (row) => expect(row.data.status).toBe('canceled'),
  },
  {
    type: 'invoice',
    table: 'invoices',
    create: { status: 'draft' },
    change: { description: 'Changed' },
    end: 'remove',
    ended: deleted,
  },
  {
    type: 'payment_intent',
    table: 'payment_intents',
    create: { status: 'requires_payment_method' },
    change: { status: 'processing' },
    end: { status: 'canceled' },
    ended: (row) => expect(row.data.status).toBe('canceled'),
  },
  {
    type: 'charge',
    table: 'charges',
    create: { status: 'succeeded' },
    change: { description: 'Changed' },
    end: { refunded: true, amount_refunded: 500 },
    ended: (row) => expect(row.data.refunded).toBe(true),
  },
  {
    type: 'refund',
    table: 'refunds',
    create: { status: 'pending' },
    change: { status: 'succeeded' },
    end: { status: 'canceled' },
    ended: (row) => expect(row.data.status).toBe('canceled'),
  },
  {
    type: 'dispute',
    table: 'disputes',
    create: { status: 'needs_response' },
    change: { status: 'under_review' },
    end: { status: 'lost' },
    ended: (row) => expect(row.data.status).toBe('lost'),
  },
  {
    type: 'payout',
    table: 'payouts',
    create: { status: 'pending' },
    change: { description: 'Changed' },
    end: { status: 'canceled' },
    ended: (row) => expect(row.data.status).toBe('canceled'),
  },
];

describe('every Stripe resource through its webhooks', () => {
  for (const c of CASES) {
    it(`${c.type}: created, changed, then ${c.end === 'remove' ? 'deleted' : 'ended'}`, async () => {
      const created = stripe.create(c.type, c.create ?? {});
      await deliver(created.event);
      expect((await rowOf(c.table, created.object.id))?.data).toEqual(created.object);

      const changed = stripe.update(c.type, created.object.id, c.change);
      await deliver(changed.event);
      const afterChange = await rowOf(c.table, created.object.id);
      expect(afterChange?.data).toEqual(changed.object);
      expect(afterChange?.is_deleted).toBe(false);

      const ended: Mutation<StripeObject | { id: string }> =
        c.end === 'remove' ? stripe.remove(c.type, created.object.id) : stripe.update(c.type, created.object.id, c.end);
      await deliver(ended.event);
      c.ended((await rowOf(c.table, created.object.id))!);
      // Each event is in the log, applied once.
      const { rows } = await db.pool.query<{ status: string; attempts: number }>(
        'SELECT status, attempts FROM stripe.events WHERE id = ANY($1)',
        [[created.event.id, changed.event.id, ended.event.id]],
      );
      expect(rows).toHaveLength(3);
      expect(rows.every((row) => row.status === 'processed')).toBe(true);
    });
  }

  it('subscription items: added and removed through customer.subscription.updated', async () => {
    const subscription = stripe.create('subscription', { status: 'active' });
    await deliver(subscription.event);
    const firstItem = (subscription.object.items as { data: StripeObject[] }).data[0]!;
    expect((await rowOf('subscription_items', firstItem.id))?.is_deleted).toBe(false);

    const added = stripe.create('subscription_item', { subscription: subscription.object.id });
    expect(added.event.type).toBe('customer.subscription.updated');
    await deliver(added.event);
    expect((await rowOf('subscription_items', added.object.id))?.is_deleted).toBe(false);

    const removed = stripe.remove('subscription_item', firstItem.id);
    await deliver(removed.event);
    expect((await rowOf('subscription_items', firstItem.id))?.is_deleted).toBe(true);
    expect((await rowOf('subscription_items', added.object.id))?.is_deleted).toBe(false);
    expect((await rowOf('subscriptions', subscription.object.id))?.data).toEqual(
      stripe.get('subscription', subscription.object.id),
    );
  });
});
