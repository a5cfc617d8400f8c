/**
 * Shopify bulk backfill against the limit of a raw COPY (bench/backfill-comparison.ts says how).
 *
 * The local Shopify Admin stand-in (test/support/shopify-server.ts, in this process) holds
 * BENCH_PRODUCTS products (50,000 by default) with 3 variants each. `plugboard shopify backfill
 * --resource products` runs one bulk operation through @shopify/admin-api-client, downloads its
 * JSONL (products, then each product's variants with `__parentId`) and writes it chunk by chunk,
 * each chunk's lines parsed once in Postgres into products and product_variants. The raw COPY
 * writes the same rows of both tables into twin tables. The backfill is timed from the export's
 * completion (the stand-in renders the JSONL while the operation runs, as Shopify prepares it on
 * its own machines) to the run's end: download, parse and write. Target: >= 60 %.
 *
 * Run: npm run bench:shopify-backfill   (BENCH_PRODUCTS, BENCH_ROUNDS tune it; BENCH_CPU_PROF=<dir>
 * writes the backfill child's CPU profiles there)
 */
import { startShopifyServer } from '../test/support/shopify-server.ts';
import { compareBackfill } from './backfill-comparison.ts';
import { pinning } from './support.ts';

const PRODUCTS = Number(process.env['BENCH_PRODUCTS'] ?? 50_000);
const VARIANTS = 3;
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);

const shopify = await startShopifyServer({ bulkDurationMs: 50 });
shopify.seed({ products: PRODUCTS, variantsPerProduct: VARIANTS, customers: 0, orders: 0, locations: 1 });
const env = {
  SHOPIFY_API_KEY: shopify.apiKey,
  SHOPIFY_API_SECRET: shopify.apiSecretKey,
  SHOPIFY_SHOP: shopify.shopDomain,
  SHOPIFY_ACCESS_TOKEN: shopify.accessToken,
  SHOPIFY_ADMIN_URL: `${shopify.url}/{shop}`,
  SHOPIFY_SYNC_INTERVAL: '0',
  SHOPIFY_BULK_POLL_MS: '20',
};

console.log(
  `Shopify bulk backfill — ${PRODUCTS} products × ${VARIANTS} variants from the local Shopify stand-in, ${ROUNDS} rounds, ${pinning}`,
);
try {
  await compareBackfill({
    plugin: 'shopify',
    resource: 'products',
    schema: 'shopify',
    tables: [
      { table: 'products', columns: 'id, data, is_deleted, updated_at, last_event_id, synced_at', rows: PRODUCTS },
      {
        table: 'product_variants',
        columns: 'id, data, is_deleted, updated_at, last_event_id, synced_at',
        rows: PRODUCTS * VARIANTS,
      },
    ],
    rounds: ROUNDS,
    env,
    target: 0.6,
    // Timed from the export's completion: preparing it is Shopify's work (the stand-in renders
    // the JSONL then), not the backfill's.
    readyAt: () => {
      const finished = shopify.bulkOperations.at(-1)?.finishedMs;
      return finished ? new Date(finished) : null;
    },
    cpuProfiles: process.env['BENCH_CPU_PROF'],
  });
} finally {
  await shopify.close();
}
