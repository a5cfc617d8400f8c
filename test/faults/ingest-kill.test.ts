/**
 * A gateway SIGKILLed mid-ingest (issue 21, process kills). For GitHub, Shopify and Stripe, a
 * real `plugboard serve` takes signed deliveries from 32 concurrent senders and is SIGKILLed once
 * a third of them are acknowledged. Every acknowledged delivery must be in the plugin's log at
 * the kill and applied once a new gateway is up. Then every delivery is sent again, as providers
 * redeliver what they think failed: the acknowledged ones are no-ops (answered `duplicate`, not
 * applied again), the others land, and every object ends at its newest state. Each run prints
 * the figures bench/RELIABILITY.md records ("Process kills").
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { type ServingGateway, serveGateway } from '../support/processes.ts';
import { startStripeServer, type StripeServer } from '../support/stripe-server.ts';
import {
  githubDeliveries,
  postConcurrently,
  type SignedDelivery,
  shopifyDeliveries,
  stripeDeliveries,
} from '../support/webhook-load.ts';

const CONCURRENCY = 32;
const DELIVERIES = 900;
const SECRET = randomBytes(24).toString('hex');

interface Provider {
  name: string;
  /** The plugin's schema (its log is `<schema>.events`) and webhook path. */
  schema: string;
  path: string;
  env: () => Record<string, string>;
  deliveries: () => Promise<SignedDelivery[]>;
  /** Every object the plugin holds, as (object, version) in SignedDelivery's terms. */
  state: string;
}

let stripe: StripeServer;
const STRIPE_SECRET = `whsec_${randomBytes(16).toString('hex')}`;
const SHOP = 'faults-shop.myshopify.com';

const byUpdatedAt = (schema: string, tables: string[]) =>
  tables
    .map((table) => `SELECT '${table}/' || id AS object, data->>'updated_at' AS version FROM ${schema}.${table}`)
    .join(' UNION ALL ');

const providers: Provider[] = [
  {
    name: 'GitHub',
    schema: 'github',
    path: '/webhooks/github',
    env: () => ({
      PLUGBOARD_PLUGINS: 'core,github',
      GITHUB_WEBHOOK_SECRET: SECRET,
      // No API call happens: webhooks carry their objects.
      GITHUB_TOKEN: `ghp_${randomBytes(18).toString('hex')}`,
      GITHUB_API_URL: 'http://127.0.0.1:9',
      GITHUB_SYNC_INTERVAL: '0',
    }),
    deliveries: () => githubDeliveries(SECRET, DELIVERIES),
    state: byUpdatedAt('github', ['issues', 'issue_comments', 'pull_requests']),
  },
  {
    name: 'Shopify',
    schema: 'shopify',
    path: '/webhooks/shopify',
    env: () => ({
      PLUGBOARD_PLUGINS: 'core,shopify',
      SHOPIFY_API_KEY: randomBytes(16).toString('hex'),
      SHOPIFY_API_SECRET: SECRET,
      SHOPIFY_SHOP: SHOP,
      SHOPIFY_ACCESS_TOKEN: `shpat_${randomBytes(16).toString('hex')}`,
      SHOPIFY_ADMIN_URL: 'http://127.0.0.1:9/{shop}',
      SHOPIFY_SYNC_INTERVAL: '0',
    }),
    deliveries: async () => shopifyDeliveries(SECRET, SHOP, DELIVERIES),
    state: byUpdatedAt('shopify', ['products', 'orders', 'customers']),
  },
  {
    name: 'Stripe',
    schema: 'stripe',
    path: '/webhooks/stripe',
    env: () => ({
      PLUGBOARD_PLUGINS: 'core,stripe',
      STRIPE_API_KEY: stripe.apiKey,
      STRIPE_WEBHOOK_SECRET: STRIPE_SECRET,
      STRIPE_API_BASE_URL: stripe.url,
      STRIPE_SYNC_INTERVAL: '0',
    }),
    deliveries: async () => stripeDeliveries(stripe, STRIPE_SECRET, DELIVERIES),
    state: `SELECT 'customers/' || id AS object, data->>'email' AS version FROM stripe.customers`,
  },
];

beforeAll(async () => {
  stripe = await startStripeServer();
});
afterAll(async () => {
  await stripe?.close();
});

describe('a gateway SIGKILLed mid-ingest', () => {
  const databases: TestDatabase[] = [];
  const gateways: ServingGateway[] = [];
  afterAll(async () => {
    for (const gateway of gateways) if (gateway.child.exitCode === null) await gateway.stop('SIGKILL');
    for (const db of databases) await db.drop();
  });
  const serve = async (env: Record<string, string>) => {
    const gateway = await serveGateway(env);
    gateways.push(gateway);
    return gateway;
  };

  it.each(providers)(
    '$name: every acknowledged delivery is applied after the restart; redeliveries are no-ops for those and land for the rest',
    async (provider) => {
      const db = await createTestDatabase();
      databases.push(db);
      const env = { DATABASE_URL: db.url, ...provider.env() };
      const deliveries = await provider.deliveries();
      const ids = deliveries.map((delivery) => delivery.id);
      const events = async () =>
        new Map(
          (
            await db.pool.query<{ id: string; status: string; processed_at: string | null }>(
              `SELECT id, status, processed_at::text FROM ${provider.schema}.events WHERE id = ANY($1)`,
              [ids],
            )
          ).rows.map((row) => [row.id, row]),
        );

      const first = await serve(env);
      const load = await postConcurrently(`${first.url}${provider.path}`, deliveries, {
        concurrency: CONCURRENCY,
        interruptAfter: Math.floor(deliveries.length / 3),
        interrupt: () => first.stop('SIGKILL'),
      });
      expect(load.outcomes.filter((outcome) => outcome === 'refused')).toEqual([]);
      const acknowledged = ids.filter((_, i) => load.outcomes[i] === 'acknowledged');
      const unanswered = ids.length - acknowledged.length;
      expect(acknowledged.length).toBeGreaterThanOrEqual(deliveries.length / 3);
      expect(unanswered, 'the kill came after every delivery was answered').toBeGreaterThan(0);

      // What the kill left: every acknowledged delivery stored (a 2xx means committed).
      const atKill = await events();
      expect(acknowledged.filter((id) => !atKill.has(id))).toEqual([]);
      const waitingAtKill = acknowledged.filter((id) => atKill.get(id)!.status === 'received').length;

      const restarted = performance.now();
      const second = await serve(env);
      const listening = performance.now() - restarted;
      await expect
        .poll(
          async () => {
            const now = await events();
            return acknowledged.filter((id) => now.get(id)?.status !== 'processed').length;
          },
          { timeout: 30_000, interval: 50 },
        )
        .toBe(0);
      const recovered = performance.now() - restarted;
      const applied = await events();

      // Providers redeliver: everything again, in the same concurrent way.
      const again = await postConcurrently(`${second.url}${provider.path}`, deliveries, { concurrency: CONCURRENCY });
      expect(again.outcomes.filter((outcome) => outcome !== 'acknowledged')).toEqual([]);
      const storedTwice = ids.filter(
        (_id, i) => load.outcomes[i] === 'acknowledged' && again.answers[i]!['duplicate'] !== true,
      );
      await expect
        .poll(async () => [...(await events()).values()].filter((row) => row.status === 'processed').length, {
          timeout: 30_000,
          interval: 50,
        })
        .toBe(ids.length);
      const final = await events();
      const appliedAgain = acknowledged.filter((id) => final.get(id)!.processed_at !== applied.get(id)!.processed_at);
      expect(storedTwice).toEqual([]);
      expect(appliedAgain).toEqual([]);

      // Every object holds the state of its newest delivery (deliveries are in change order).
      const newest = new Map(deliveries.map((delivery) => [delivery.object, delivery.version]));
      const { rows } = await db.pool.query<{ object: string; version: string }>(provider.state);
      expect(new Map(rows.map((row) => [row.object, row.version]))).toEqual(newest);

      const lost = acknowledged.filter((id) => applied.get(id)?.status !== 'processed').length;
      console.log(
        `[process kills] gateway SIGKILL mid-ingest, ${provider.name}: load ${CONCURRENCY} concurrent senders, ` +
          `${load.rate.toFixed(0)} acknowledged/s; in flight at the kill ${load.inFlightAtInterrupt}; ` +
          `acknowledged ${acknowledged.length} of ${ids.length} (${waitingAtKill} not yet applied at the kill); ` +
          `applied ${acknowledged.length - lost}; lost ${lost}; duplicated ${storedTwice.length + appliedAgain.length}; ` +
          `recovered in ${(recovered / 1000).toFixed(1)} s (gateway listening after ${(listening / 1000).toFixed(1)} s); ` +
          `redelivery of all ${ids.length}: ${unanswered} unacknowledged landed, ${acknowledged.length} no-ops`,
      );
      expect(await second.stop('SIGTERM')).toBe(0);
    },
    80_000,
  );
});
