/**
 * The local Stripe stand-in (test/support/stripe-server.ts) behaves like api.stripe.com for the
 * real `stripe` SDK: pagination, filters, errors, retries, events and webhook signatures.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import Stripe from 'stripe';
import { startStripeServer, signedWebhook, STRIPE_API_VERSION, type StripeServer } from './support/stripe-server.ts';
import { buildObject, STRIPE_RESOURCE_TYPES, ID_PREFIX, type StripeObject } from './support/stripe-objects.ts';

let server: StripeServer;
let stripe: Stripe;

beforeAll(async () => {
  server = await startStripeServer();
  stripe = new Stripe(server.apiKey, { ...server.sdkOptions(), maxNetworkRetries: 2 });
});

afterAll(async () => {
  await server?.close();
});

/** Runs `body` against a fresh server (for tests that need empty stores). */
async function withServer<T>(body: (s: StripeServer, client: Stripe) => Promise<T>): Promise<T> {
  const s = await startStripeServer();
  try {
    return await body(s, new Stripe(s.apiKey, { ...s.sdkOptions(), maxNetworkRetries: 2 }));
  } finally {
    await s.close();
  }
}

describe('stripe-objects builders', () => {
  it('builds every type with its prefix, object name and the fields a sync reads', () => {
    for (const type of STRIPE_RESOURCE_TYPES) {
      const object = buildObject(type);
      expect(object.id).toMatch(new RegExp(`^${ID_PREFIX[type]}_[A-Za-z0-9]{14,24}$`));
      expect(object.object).toBe(type);
      expect(typeof object.created).toBe('number');
      // Stripe's refund and subscription_item objects carry no `livemode`.
      if (type !== 'subscription_item' && type !== 'refund') expect(object.livemode).toBe(false);
      expect(object.metadata).toEqual({});
    }
    const sub = buildObject('subscription', { status: 'active' });
    const items = sub.items as { object: string; data: StripeObject[]; url: string; total_count: number };
    expect(items.object).toBe('list');
    expect(items.url).toBe(`/v1/subscription_items?subscription=${sub.id}`);
    expect(items.data[0]?.subscription).toBe(sub.id);
    expect((items.data[0]!.price as StripeObject).object).toBe('price');
    expect(sub.current_period_end as number).toBeGreaterThan(sub.current_period_start as number);
    expect(new Set(Array.from({ length: 50 }, () => buildObject('customer').id)).size).toBe(50);
  });
});

describe('list endpoints through the real SDK', () => {
  let seeded: StripeObject[];

  beforeAll(() => {
    seeded = server.seed('customer', 250);
  });

  it('auto-paginates 250 customers exactly once each, newest first', async () => {
    const before = server.requestCount('/v1/customers');
    const seen: string[] = [];
    let previous: { created: number; id: string } | null = null;
    for await (const customer of stripe.customers.list({ limit: 100 })) {
      seen.push(customer.id);
      if (previous) {
        const ordered =
          customer.created < previous.created || (customer.created === previous.created && customer.id < previous.id);
        expect(ordered).toBe(true);
      }
      previous = customer;
    }
    expect(seen).toHaveLength(250);
    expect(new Set(seen).size).toBe(250);
    expect(seen[0]).toBe(seeded[249]?.id);
    expect(server.requestCount('/v1/customers') - before).toBe(3);
  });

  it('filters on created[gte] and resumes with starting_after / ending_before', async () => {
    const threshold = (seeded[200] as StripeObject).created;
    const recent = await stripe.customers.list({ limit: 100, created: { gte: threshold } });
    expect(recent.data.map((c) => c.id)).toEqual(
      seeded
        .slice(200)
        .reverse()
        .map((c) => c.id),
    );
    expect(recent.has_more).toBe(false);

    const exact = await stripe.customers.list({ created: threshold });
    expect(exact.data.map((c) => c.id)).toEqual([seeded[200]?.id]);

    const first = await stripe.customers.list({ limit: 5 });
    expect(first.has_more).toBe(true);
    expect(first.url).toBe('/v1/customers');
    const next = await stripe.customers.list({ limit: 5, starting_after: first.data[4]?.id as string });
    expect(next.data.map((c) => c.id)).toEqual(
      seeded
        .slice(240, 245)
        .reverse()
        .map((c) => c.id),
    );
    const back = await stripe.customers.list({ limit: 5, ending_before: next.data[0]?.id as string });
    expect(back.data.map((c) => c.id)).toEqual(first.data.map((c) => c.id));
    expect(back.has_more).toBe(false);
  });

  it('rejects an out-of-range limit with a Stripe-shaped 400', async () => {
    const error = await stripe.customers.list({ limit: 101 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect((error as Stripe.errors.StripeInvalidRequestError).param).toBe('limit');
    expect((error as Stripe.errors.StripeInvalidRequestError).statusCode).toBe(400);
  });
});

describe('retrieve, auth and faults', () => {
  it('retrieves by id and answers 404 resource_missing for unknown ids', async () => {
    const { object } = server.create('customer', { email: 'ada@example.com' });
    const customer = await stripe.customers.retrieve(object.id);
    expect(customer.id).toBe(object.id);
    expect(customer.lastResponse.requestId).toMatch(/^req_/);

    const error = await stripe.customers.retrieve('cus_doesnotexist123').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    const invalid = error as Stripe.errors.StripeInvalidRequestError;
    expect(invalid.code).toBe('resource_missing');
    expect(invalid.statusCode).toBe(404);
    expect(invalid.message).toBe("No such customer: 'cus_doesnotexist123'");
  });

  it('answers 401 for a wrong key', async () => {
    const wrong = new Stripe('sk_test_wrongwrongwrongwrongwrong', { ...server.sdkOptions(), maxNetworkRetries: 0 });
    const error = await wrong.customers.list().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
    expect((error as Error).message).toMatch(/^Invalid API Key provided: sk_test_\*+rong$/);
  });

  it('a 429 injected once is retried by the SDK and succeeds', async () => {
    const before = server.requestCount('/v1/products');
    server.failNext(1, 429, (path) => path.startsWith('/v1/products'));
    const products = await stripe.products.list({ limit: 3 });
    expect(products.object).toBe('list');
    expect(server.requestCount('/v1/products') - before).toBe(2);
    const last = server.requests.slice(-2).map((r) => r.status);
    expect(last).toEqual([429, 200]);
  });

  it('a 429 beyond maxNetworkRetries surfaces as StripeRateLimitError', async () => {
    const noRetry = new Stripe(server.apiKey, { ...server.sdkOptions(), maxNetworkRetries: 0 });
    server.failNext(1, 429);
    const error = await noRetry.prices.list().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Stripe.errors.StripeRateLimitError);
  });
});

describe('events', () => {
  it('update records previous_attributes; two events can share a second', async () => {
    await withServer(async (s, client) => {
      s.setNow(1_760_000_000);
      const { object, event: created } = s.create('customer', { email: 'old@example.com', name: 'Old Name' });
      const { event } = s.update('customer', object.id, { email: 'new@example.com', metadata: { plan: 'pro' } });
      expect(created.type).toBe('customer.created');
      expect(event.type).toBe('customer.updated');
      expect(event.created).toBe(created.created);
      expect(event.data.previous_attributes).toEqual({ email: 'old@example.com', metadata: {} });
      expect(event.data.object.email).toBe('new@example.com');
      expect(event.api_version).toBe(STRIPE_API_VERSION);
      expect(event.request.id).toMatch(/^req_/);

      const fetched = await client.events.retrieve(event.id);
      expect(fetched.type).toBe('customer.updated');
      const listed = await client.events.list({ created: 1_760_000_000 });
      expect(listed.data.map((e) => e.id).sort()).toEqual([created.id, event.id].sort());
    });
  });

  it('delete records customer.deleted and the customer vanishes from lists', async () => {
    await withServer(async (s, client) => {
      const [keep, gone] = s.seed('customer', 2) as [StripeObject, StripeObject];
      const { object, event } = s.remove('customer', gone.id);
      expect(object).toEqual({ id: gone.id, object: 'customer', deleted: true });
      expect(event.type).toBe('customer.deleted');
      expect(event.data.object.id).toBe(gone.id);
      expect(event.data.object.email).toBe(gone.email);

      const list = await client.customers.list();
      expect(list.data.map((c) => c.id)).toEqual([keep.id]);
      const retrieved = await client.customers.retrieve(gone.id);
      expect(retrieved).toMatchObject({ id: gone.id, object: 'customer', deleted: true });
      // A cursor on the deleted customer still pages.
      const after = await client.customers.list({ ending_before: gone.id });
      expect(after.data).toEqual([]);
    });
  });

  it('lists events filtered by types[] and type wildcards', async () => {
    await withServer(async (s, client) => {
      const { object: customer } = s.create('customer');
      s.create('product');
      s.create('subscription', { customer: customer.id });
      s.update('customer', customer.id, { name: 'Renamed' });
      const subs = await client.events.list({ types: ['customer.subscription.created', 'customer.updated'] });
      expect(subs.data.map((e) => e.type).sort()).toEqual(['customer.subscription.created', 'customer.updated']);
      const all = await client.events.list({ type: 'customer.*' });
      expect(all.data.map((e) => e.type).sort()).toEqual([
        'customer.created',
        'customer.subscription.created',
        'customer.updated',
      ]);
    });
  });
});

describe('subscriptions', () => {
  it('lists exclude canceled by default; status=all and status=canceled include them', async () => {
    await withServer(async (s, client) => {
      const [customer] = s.seed('customer', 1) as [StripeObject];
      const active = s.create('subscription', { customer: customer.id, status: 'active' }).object;
      const doomed = s.create('subscription', { customer: customer.id, status: 'active' }).object;
      const { event } = s.remove('subscription', doomed.id);
      expect(event.type).toBe('customer.subscription.deleted');
      expect(event.data.object.status).toBe('canceled');

      expect((await client.subscriptions.list()).data.map((x) => x.id)).toEqual([active.id]);
      expect((await client.subscriptions.list({ status: 'canceled' })).data.map((x) => x.id)).toEqual([doomed.id]);
      expect((await client.subscriptions.list({ status: 'all', customer: customer.id })).data).toHaveLength(2);

      const items = await client.subscriptionItems.list({ subscription: active.id });
      expect(items.data).toHaveLength(1);
      expect(items.data[0]?.subscription).toBe(active.id);
    });
  });

  it('subscription_items requires the subscription param', async () => {
    const error = await stripe.rawRequest('GET', '/v1/subscription_items').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect((error as Stripe.errors.StripeInvalidRequestError).code).toBe('parameter_missing');
    expect((error as Stripe.errors.StripeInvalidRequestError).param).toBe('subscription');
  });
});

describe('writes through the SDK', () => {
  it('create, update and delete a customer record the matching events', async () => {
    await withServer(async (s, client) => {
      const created = await client.customers.create({ email: 'sdk@example.com', metadata: { source: 'test' } });
      expect(created.email).toBe('sdk@example.com');
      expect(created.name).toBeNull();
      const updated = await client.customers.update(created.id, { name: 'Via SDK' });
      expect(updated.name).toBe('Via SDK');
      const deleted = await client.customers.del(created.id);
      expect(deleted.deleted).toBe(true);
      expect(s.events().map((e) => e.type)).toEqual(['customer.created', 'customer.updated', 'customer.deleted']);
      expect(s.events()[0]?.request.idempotency_key).toMatch(/^stripe-node-retry-/);
    });
  });
});

describe('webhooks', () => {
  it('constructEvent accepts a signedWebhook and rejects a tampered body', async () => {
    const secret = 'whsec_test_secret';
    const { event } = server.create('customer');
    const { body, headers } = signedWebhook(event, secret);
    expect(headers['content-type']).toBe('application/json');
    const verified = stripe.webhooks.constructEvent(body, headers['stripe-signature'], secret);
    expect(verified.id).toBe(event.id);

    const tampered = body.replace(event.id, 'evt_forged000000000');
    expect(() => stripe.webhooks.constructEvent(tampered, headers['stripe-signature'], secret)).toThrow(
      Stripe.errors.StripeSignatureVerificationError,
    );

    const stale = server.signedWebhook(event, secret, Math.floor(Date.now() / 1000) - 3600);
    expect(() => stripe.webhooks.constructEvent(stale.body, stale.headers['stripe-signature'], secret)).toThrow(
      /timestamp outside the tolerance zone/i,
    );
  });
});
