/**
 * `plugboard shopify …` as real child processes against the local Shopify Admin stand-in, through
 * @shopify/admin-api-client: a bulk-operation backfill of 20,000 products with 3 variants each,
 * killed (SIGKILL) half-way and resumed from the same export; customers, orders (line items,
 * fulfillments) and locations; an incremental sync that lists only what changed; the cost-based
 * throttle waited out; `shops` and `test`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { startTestGateway, type TestGateway } from './support/gateway.ts';
import { runCli, spawnCli } from './support/processes.ts';
import { startShopifyServer, type ShopifyServer } from './support/shopify-server.ts';

let db: TestDatabase;
let shopify: ShopifyServer;
let gateway: TestGateway;
let env: Record<string, string>;

const PRODUCTS = 20_000;
const VARIANTS = 3;

const sql = async <T = Record<string, unknown>>(text: string, params: unknown[] = []) =>
  (await db.pool.query(text, params)).rows as T[];

/** The count a sync's summary table gives a resource. */
function countOf(stdout: string, resource: string): number {
  const line = stdout.split('\n').find((l) => l.startsWith(`${resource} `));
  if (!line) throw new Error(`no row for ${resource} in:\n${stdout}`);
  return Number(line.trim().split(/\s+/)[1]);
}

beforeAll(async () => {
  db = await createTestDatabase();
  shopify = await startShopifyServer({ bulkDurationMs: 300 });
  shopify.seed({
    products: PRODUCTS,
    variantsPerProduct: VARIANTS,
    customers: 200,
    orders: 300,
    locations: 2,
    collections: 5,
  });
  env = {
    DATABASE_URL: db.url,
    SHOPIFY_API_KEY: shopify.apiKey,
    SHOPIFY_API_SECRET: shopify.apiSecretKey,
    SHOPIFY_SHOP: shopify.shopDomain,
    SHOPIFY_ACCESS_TOKEN: shopify.accessToken,
    SHOPIFY_ADMIN_URL: `${shopify.url}/{shop}`,
    SHOPIFY_SYNC_INTERVAL: '0',
    SHOPIFY_BULK_POLL_MS: '25',
  };
  // The gateway applies the migrations the commands then share.
  gateway = await startTestGateway({ databaseUrl: db.url, env });
}, 120_000);

afterAll(async () => {
  await gateway?.close();
  await shopify?.close();
  await db?.drop();
});

describe('plugboard shopify', () => {
  it('backfills 20,000 products with 3 variants through one bulk operation, killed half-way and resumed from it', async () => {
    const child = spawnCli(['shopify', 'backfill', '--resource', 'products'], env);
    const exited = new Promise((resolve) => child.on('exit', resolve));
    try {
      await expect
        .poll(
          async () => {
            const [state] = await sql<{ synced: string }>(
              "SELECT objects_synced AS synced FROM shopify.sync_state WHERE resource = 'products' AND status = 'running'",
            );
            return Number(state?.synced ?? 0);
          },
          { timeout: 90_000, interval: 20, message: 'the backfill made no progress' },
        )
        .toBeGreaterThanOrEqual((PRODUCTS * (1 + VARIANTS)) / 3);
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    const [killed] = await sql<{ status: string; cursor: string; synced: string }>(
      "SELECT status, cursor, objects_synced AS synced FROM shopify.sync_state WHERE resource = 'products'",
    );
    expect(killed).toMatchObject({ status: 'running' });
    // The checkpoint names the shop, the bulk operation and the byte its next chunk starts at.
    expect(killed!.cursor).toMatch(/^[a-z0-9-]+\.myshopify\.com\tgid:\/\/shopify\/BulkOperation\/\d+\t\d+$/);
    const before = shopify.stats();

    const resumed = await runCli(['shopify', 'backfill', '--resource', 'products'], env);
    expect(resumed.code, resumed.stderr).toBe(0);
    const after = shopify.stats();
    // The same export, read on from the checkpoint: no new bulk operation, and less written again.
    expect(after.bulkOperations - before.bulkOperations).toBe(0);
    expect(after.bulkDownloads - before.bulkDownloads).toBe(1);
    expect(countOf(resumed.stdout, 'products')).toBeLessThan(
      PRODUCTS * (1 + VARIANTS) - Number(killed!.synced) + 20_000,
    );
    expect(resumed.stderr).toMatch(/query cost \d+/);

    const [stored] = await sql<{ products: number; distinct_products: number; variants: number; orphans: number }>(
      `SELECT (SELECT count(*)::int FROM shopify.products WHERE NOT is_deleted) AS products,
              (SELECT count(DISTINCT id)::int FROM shopify.products) AS distinct_products,
              (SELECT count(*)::int FROM shopify.product_variants WHERE NOT is_deleted) AS variants,
              (SELECT count(*)::int FROM shopify.product_variants v
                 WHERE NOT EXISTS (SELECT 1 FROM shopify.products p WHERE p.id = v.product_id)) AS orphans`,
    );
    expect(stored).toEqual({
      products: PRODUCTS,
      distinct_products: PRODUCTS,
      variants: PRODUCTS * VARIANTS,
      orphans: 0,
    });
    // Rows hold Shopify's objects, with their shop, and the typed columns read them.
    const product = shopify.store.products.all().next().value!;
    const [row] = await sql<{ shop: string; title: string; gid: string; updated_at: Date; variants: number }>(
      `SELECT shop, title, gid, updated_at, (SELECT count(*)::int FROM shopify.product_variants v WHERE v.product_id = p.id) AS variants
       FROM shopify.products p WHERE gid = $1`,
      [product.id],
    );
    expect(row).toEqual({
      shop: shopify.shopDomain,
      title: product.title,
      gid: product.id,
      updated_at: new Date(product.updatedAt),
      variants: VARIANTS,
    });
    const [state] = await sql('SELECT status, cursor FROM shopify.sync_state WHERE resource = $1', ['products']);
    expect(state).toEqual({ status: 'completed', cursor: null });
  }, 180_000);

  it('backfills customers, orders with line items and fulfillments, and locations; then syncs only what changed', async () => {
    const full = await runCli(
      ['shopify', 'backfill', '--resource', 'customers', '--resource', 'orders', '--resource', 'locations'],
      env,
    );
    expect(full.code, full.stderr).toBe(0);
    const shop = shopify.stats();
    const [counts] = await sql<Record<string, number>>(
      `SELECT (SELECT count(*)::int FROM shopify.customers) AS customers,
              (SELECT count(*)::int FROM shopify.orders) AS orders,
              (SELECT count(*)::int FROM shopify.locations) AS locations,
              (SELECT count(*)::int FROM shopify.order_line_items l
                 WHERE NOT EXISTS (SELECT 1 FROM shopify.orders o WHERE o.id = l.order_id)) AS orphan_line_items,
              (SELECT count(*)::int FROM shopify.order_line_items) AS line_items`,
    );
    expect(counts).toMatchObject({
      customers: shop.customers,
      orders: shop.orders,
      locations: 2,
      orphan_line_items: 0,
    });
    expect(counts!['line_items']).toBeGreaterThanOrEqual(shop.orders);

    // A product changes and an order arrives: the incremental sync lists those, not the rest.
    const product = [...shopify.store.products.all()][7]!;
    shopify.updateProduct(product.id, { title: 'Renamed in the admin' });
    const order = shopify.addOrder();
    const sync = await runCli(['shopify', 'sync', '--resource', 'products', '--resource', 'orders'], env);
    expect(sync.code, sync.stderr).toBe(0);
    expect(sync.stdout).toMatch(/incremental/);
    expect(countOf(sync.stdout, 'products')).toBe(1);
    expect(countOf(sync.stdout, 'orders')).toBe(1);
    const [renamed] = await sql('SELECT title FROM shopify.products WHERE gid = $1', [product.id]);
    expect(renamed).toEqual({ title: 'Renamed in the admin' });
    const [added] = await sql<{ n: number; items: number }>(
      `SELECT count(*)::int AS n, (SELECT count(*)::int FROM shopify.order_line_items l WHERE l.order_id = o.id) AS items
       FROM shopify.orders o WHERE gid = $1 GROUP BY o.id`,
      [order.id],
    );
    expect(added).toEqual({ n: 1, items: order.lineItems.length });
  }, 120_000);

  it('backfills collections with their products, and inventory items with their levels at each location', async () => {
    const run = await runCli(
      ['shopify', 'backfill', '--resource', 'collections', '--resource', 'inventory_items'],
      env,
    );
    expect(run.code, run.stderr).toBe(0);
    const { store } = shopify;
    const memberships = [...store.collections.all()].reduce((sum, collection) => sum + collection.productIds.length, 0);
    const levels = [...store.inventoryLevels.values()].reduce((sum, byLocation) => sum + byLocation.size, 0);
    const [counts] = await sql<Record<string, number>>(
      `SELECT (SELECT count(*)::int FROM shopify.collections) AS collections,
              (SELECT count(*)::int FROM shopify.collection_products) AS memberships,
              (SELECT count(*)::int FROM shopify.inventory_items) AS items,
              (SELECT count(*)::int FROM shopify.inventory_levels) AS levels,
              (SELECT count(*)::int FROM shopify.inventory_levels WHERE available IS NULL OR location_id IS NULL
                 OR inventory_item_id IS NULL) AS incomplete_levels`,
    );
    expect(counts).toEqual({
      collections: store.collections.size,
      memberships,
      items: store.inventoryItems.size,
      levels,
      incomplete_levels: 0,
    });
    // A level's quantity is the stand-in's, under its composite key.
    const level = [...store.inventoryLevels.values()][0]!.values().next().value!;
    const key = `${level.itemId.replace(/\D+/g, '')}/${level.locationId.replace(/\D+/g, '')}`;
    const [row] = await sql('SELECT available FROM shopify.inventory_levels WHERE id = $1', [key]);
    expect(row).toEqual({ available: level.available });
  }, 120_000);

  it("waits for the shop's cost bucket to restore instead of failing", async () => {
    // An empty bucket of 100 points restoring 50 a second; the 200 customers take 20 pages.
    shopify.setThrottle({ maximumAvailable: 100, restoreRate: 50, currentlyAvailable: 0 });
    const before = shopify.stats().throttled;
    try {
      const sync = await runCli(['shopify', 'sync', '--resource', 'customers', '--since', '2000-01-01'], env);
      expect(sync.code, sync.stderr).toBe(0);
      expect(countOf(sync.stdout, 'customers')).toBe(shopify.stats().customers);
      expect(shopify.stats().throttled).toBeGreaterThan(before);
      expect(sync.stderr).toMatch(/throttled [1-9]\d* times/);
    } finally {
      shopify.setThrottle({ maximumAvailable: 2000, restoreRate: 100, currentlyAvailable: 2000 });
    }
  }, 60_000);

  it('lists the shops and tests the token', async () => {
    const shops = await runCli(['shopify', 'shops'], env);
    expect(shops.code, shops.stderr).toBe(0);
    expect(shops.stdout).toContain(shopify.shopDomain);
    expect(shops.stdout).toMatch(/1 shops/);
    const test = await runCli(['shopify', 'test'], env);
    expect(test.code, test.stderr).toBe(0);
    expect(test.stdout).toContain(`${shopify.shopDomain}  ${shopify.name}`);

    const wrong = await runCli(['shopify', 'test'], {
      ...env,
      SHOPIFY_ACCESS_TOKEN: 'shpat_wrong0000000000000000000000000',
    });
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toMatch(/refused the access token \(HTTP 401\)/);
    expect(wrong.stderr).not.toContain('shpat_wrong');
  }, 60_000);
});
