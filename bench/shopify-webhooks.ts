/**
 * Shopify webhooks: signed deliveries applied per second at concurrency 64, ack after commit,
 * against the simplest correct handler (bench/peers/shopify-simple-handler.ts: HMAC check, one
 * `INSERT … ON CONFLICT` per delivery); bench/webhooks-comparison.ts says how.
 *
 * Deliveries: Shopify's documented payloads (test/fixtures/shopify: products/update with its
 * variants, orders/updated with line items and fulfillments, customers/update) made into
 * BENCH_EVENTS (5,000) deliveries about 1,000 objects, each changed a few times with later
 * `updated_at`s, signed as Shopify signs them. Plugboard also writes each product's variants and
 * each order's line items and fulfillments into their tables; the peer keeps only the body.
 * Target: Plugboard >= 1.5x the peer.
 *
 * Run: npm run bench:shopify-webhooks
 */
import { randomBytes } from 'node:crypto';
import { shopifyDeliveries } from '../test/support/webhook-load.ts';
import { pinning } from './support.ts';
import { compareWebhooks } from './webhooks-comparison.ts';

const EVENTS = Number(process.env['BENCH_EVENTS'] ?? 5000);
const CONCURRENCY = Number(process.env['BENCH_CONCURRENCY'] ?? 64);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5);
const SECRET = randomBytes(24).toString('hex');
const SHOP = 'bench-shop.myshopify.com';
const CHANGES = 5;

const deliveries = shopifyDeliveries(SECRET, SHOP, EVENTS, CHANGES);
const expected = Math.ceil(EVENTS / CHANGES);
console.log(
  `Shopify webhooks, ${pinning} — ${deliveries.length} signed deliveries (products/update, orders/updated, customers/update) about ${expected} objects, concurrency ${CONCURRENCY}, ${ROUNDS} rounds`,
);
await compareWebhooks({
  provider: 'Shopify',
  schema: 'shopify',
  path: '/webhooks/shopify',
  plugins: 'core,shopify',
  env: {
    SHOPIFY_API_KEY: randomBytes(16).toString('hex'),
    SHOPIFY_API_SECRET: SECRET,
    SHOPIFY_SHOP: SHOP,
    SHOPIFY_ACCESS_TOKEN: `shpat_${randomBytes(16).toString('hex')}`,
    SHOPIFY_ADMIN_URL: 'http://127.0.0.1:9/{shop}',
    SHOPIFY_SYNC_INTERVAL: '0',
  },
  peer: { script: 'bench/peers/shopify-simple-handler.ts', env: { SHOPIFY_API_SECRET: SECRET } },
  objects: {
    plugboard:
      'SELECT (SELECT count(*) FROM shopify.products) + (SELECT count(*) FROM shopify.orders) + (SELECT count(*) FROM shopify.customers) AS n',
    peer: 'SELECT count(*) AS n FROM shopify_objects',
  },
  expected,
  deliveries,
  concurrency: CONCURRENCY,
  rounds: ROUNDS,
});
