/**
 * Shopify webhooks through the gateway, with payloads modeled on Shopify's documented examples
 * (test/fixtures/shopify/) signed as Shopify signs them (base64 HMAC-SHA256 of the body, keyed by
 * the app's secret): every synced topic lands in its table with its shop; redeliveries, older
 * states, deletes, bad signatures and bodies, app/uninstalled, and the three privacy topics,
 * checked by reading every table of the schema.
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ApiVersion } from '@shopify/shopify-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../gateway/config/variables.ts';
import { createLogger } from '../gateway/logger.ts';
import type { PluginRuntime } from '../gateway/plugin/contract.ts';
import { selectPlugins } from '../gateway/plugin/selection.ts';
import type { ShopifyConfig } from '../plugins/shopify/config.ts';
import { setupShopify } from '../plugins/shopify/instance.ts';
import manifest from '../plugins/shopify/plugin.json' with { type: 'json' };
import { registry } from '../plugins/registry.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { startTestGateway, type TestGateway } from './support/gateway.ts';

const SECRET = randomBytes(24).toString('hex');
const API_KEY = `key${randomBytes(8).toString('hex')}`;
const CONFIGURED_SHOP = 'configured-shop.myshopify.com';

type Json = Record<string, unknown>;

let db: TestDatabase;
let gateway: TestGateway;

/** A documented payload from test/fixtures/shopify/. */
const fixture = (name: string): Json =>
  JSON.parse(readFileSync(new URL(`./fixtures/shopify/${name}.json`, import.meta.url), 'utf8')) as Json;

let nextId = 1_000_000_000_000 + (Date.now() % 1_000_000) * 1000;
/**
 * The payloads with fresh ids, the same fresh id for the same fixture id wherever it appears
 * (`id`, `*_id`, GIDs, the privacy topics' order lists), so tests do not share rows.
 */
function remap<T>(value: T, ids: Map<number, number>): T {
  const fresh = (n: number) => {
    let id = ids.get(n);
    if (id === undefined) {
      id = nextId++;
      ids.set(n, id);
    }
    return id;
  };
  const idKey = (key: string) => key === 'id' || key.endsWith('_id') || key.startsWith('orders_');
  const walk = (item: unknown, key: string): unknown => {
    if (typeof item === 'number' && idKey(key)) return fresh(item);
    if (typeof item === 'string')
      return item.replace(/^(gid:\/\/shopify\/\w+\/)(\d+)(\?inventory_item_id=)?(\d+)?$/, (_, prefix, n, q, m) =>
        q ? `${prefix}${fresh(Number(n))}${q}${fresh(Number(m))}` : `${prefix}${fresh(Number(n))}`,
      );
    if (Array.isArray(item)) return item.map((element) => walk(element, key));
    if (typeof item === 'object' && item !== null)
      return Object.fromEntries(Object.entries(item).map(([k, v]) => [k, walk(v, k)]));
    return item;
  };
  return walk(value, '') as T;
}

const newShop = () => `shop-${randomBytes(5).toString('hex')}.myshopify.com`;
const at = (seconds: number) => new Date(Date.UTC(2030, 0, 1, 0, 0, seconds)).toISOString();

interface Delivery {
  shop: string;
  id?: string;
  secret?: string;
  hmac?: string | null;
  raw?: string;
  triggeredAt?: string;
  headers?: Record<string, string | null>;
}

async function deliver(topic: string, body: unknown, options: Delivery) {
  const text = options.raw ?? JSON.stringify(body);
  const hmac = createHmac('sha256', options.secret ?? SECRET)
    .update(text, 'utf8')
    .digest('base64');
  const headers: Record<string, string | null> = {
    'content-type': 'application/json',
    'x-shopify-topic': topic,
    'x-shopify-hmac-sha256': options.hmac === undefined ? hmac : options.hmac,
    'x-shopify-shop-domain': options.shop,
    'x-shopify-api-version': '2026-10',
    'x-shopify-webhook-id': options.id ?? randomUUID(),
    'x-shopify-triggered-at': options.triggeredAt ?? new Date().toISOString(),
    ...options.headers,
  };
  const response = await fetch(`${gateway.url}/webhooks/shopify`, {
    method: 'POST',
    headers: Object.fromEntries(
      Object.entries(headers).filter((entry): entry is [string, string] => entry[1] !== null),
    ),
    body: text,
  });
  return { status: response.status, body: (await response.json()) as Json };
}

const rows = async (sql: string, params: unknown[] = []) => (await db.pool.query(sql, params)).rows;
/** Events not yet applied, with why (a failure shows its error). */
const waiting = () =>
  rows("SELECT type, attempts, last_error FROM shopify.events WHERE status <> 'processed' ORDER BY received_at");
const settled = () => expect.poll(waiting, { timeout: 10_000 }).toEqual([]);
const eventCount = async () => (await rows('SELECT count(*)::int AS n FROM shopify.events'))[0]!['n'] as number;

/** Delivers and expects a 200. */
async function accepted(topic: string, body: unknown, options: Delivery) {
  const answer = await deliver(topic, body, options);
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer;
}

/** Every table of the schema with the column naming each row's shop (partitions are their log's). */
async function shopTables(): Promise<{ table: string; column: string }[]> {
  const found = await rows(
    `SELECT table_name AS table, column_name AS column FROM information_schema.columns AS c
     WHERE table_schema = 'shopify' AND column_name IN ('shop', 'domain')
       AND NOT EXISTS (SELECT FROM pg_inherits WHERE inhrelid = format('shopify.%I', c.table_name)::regclass)
     ORDER BY table_name`,
  );
  return found as { table: string; column: string }[];
}

/** Rows of `shop` in any table of the schema whose text holds any of `needles`, as "table: needle". */
async function holding(shop: string, needles: readonly string[]): Promise<string[]> {
  const found: string[] = [];
  for (const { table, column } of await shopTables()) {
    const hits = await rows(
      `SELECT n AS needle FROM shopify.${table} AS t, unnest($2::text[]) AS n
       WHERE t.${column} = $1 AND t::text ILIKE '%' || n || '%'`,
      [shop, needles],
    );
    for (const hit of hits) found.push(`${table}: ${String(hit['needle'])}`);
  }
  return found.sort();
}

beforeAll(async () => {
  db = await createTestDatabase();
  gateway = await startTestGateway({
    databaseUrl: db.url,
    env: {
      SHOPIFY_API_KEY: API_KEY,
      SHOPIFY_API_SECRET: SECRET,
      SHOPIFY_SHOP: CONFIGURED_SHOP,
      // No API call happens in these tests: webhooks carry their objects.
      SHOPIFY_ACCESS_TOKEN: `shpat_${randomBytes(16).toString('hex')}`,
      SHOPIFY_SYNC_INTERVAL: '0',
    },
  });
});

afterAll(async () => {
  await gateway?.close();
  await db?.drop();
});

describe('configuration', () => {
  it("offers exactly the library's API versions, 2026-10 by default", () => {
    const spec = manifest.configuration.schema.SHOPIFY_API_VERSION;
    expect([...spec.enum].sort()).toEqual(Object.values(ApiVersion).sort());
    expect(spec.default).toBe(ApiVersion.October26);
  });

  it('names each bad variable and never prints a secret', () => {
    const secret = 'tiny';
    let thrown: unknown;
    try {
      selectPlugins(registry, {
        PLUGBOARD_PLUGINS: 'shopify',
        SHOPIFY_API_KEY: API_KEY,
        SHOPIFY_API_SECRET: secret,
        SHOPIFY_API_VERSION: '2019-04',
        SHOPIFY_SHOP: 'not a shop',
      });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    const problems = (thrown as ConfigError).problems;
    // The shop is set but its token is not: the half-set group names what it lacks.
    expect(problems.map((p) => p.variable).sort()).toEqual([
      'SHOPIFY_ACCESS_TOKEN',
      'SHOPIFY_API_SECRET',
      'SHOPIFY_API_VERSION',
      'SHOPIFY_SHOP',
    ]);
    expect(JSON.stringify(problems)).not.toContain(secret);
  });
});

/** Where each synced topic's object lands, and what its typed columns say. */
const UPSERTS: [topic: string, file: string, table: string, columns: Json][] = [
  ['products/create', 'products-create', 'products', { title: 'Example T-Shirt', status: 'active', vendor: 'Acme' }],
  ['products/update', 'products-create', 'products', { handle: 'example-t-shirt', product_type: 'Shirts' }],
  ['collections/create', 'collections-update', 'collections', { title: 'Smart iPods', handle: 'smartipods' }],
  ['collections/update', 'collections-update', 'collections', { title: 'Smart iPods' }],
  ['customers/create', 'customers-create', 'customers', { email: 'john@example.com', first_name: 'John' }],
  ['customers/update', 'customers-create', 'customers', { last_name: 'Smith', state: 'disabled' }],
  ['orders/create', 'orders-create', 'orders', { name: '#9999', financial_status: 'voided', currency: 'USD' }],
  ['orders/updated', 'orders-create', 'orders', { email: 'jon@example.com', total_price: '398.00' }],
  ['orders/paid', 'orders-create', 'orders', { fulfillment_status: 'pending' }],
  ['orders/cancelled', 'orders-create', 'orders', { name: '#9999' }],
  ['orders/fulfilled', 'orders-create', 'orders', { name: '#9999' }],
  [
    'fulfillments/create',
    'fulfillments-create',
    'fulfillments',
    { status: 'pending', tracking_number: '1z827wk74630' },
  ],
  ['fulfillments/update', 'fulfillments-create', 'fulfillments', { status: 'pending' }],
  ['inventory_items/create', 'inventory-items-update', 'inventory_items', { sku: 'example-sku', tracked: true }],
  ['inventory_items/update', 'inventory-items-update', 'inventory_items', { sku: 'example-sku' }],
  ['inventory_levels/connect', 'inventory-levels-update', 'inventory_levels', { available: 6 }],
  ['inventory_levels/update', 'inventory-levels-update', 'inventory_levels', { available: 6 }],
  ['locations/create', 'locations-update', 'locations', { name: 'Apple Api Shipwire', active: true }],
  ['locations/update', 'locations-update', 'locations', { active: true }],
];

const keyOf = (table: string, body: Json) =>
  table === 'inventory_levels'
    ? `${String(body['inventory_item_id'])}/${String(body['location_id'])}`
    : String(body['id']);

describe('Shopify webhooks', () => {
  it.each(UPSERTS)('stores %s in %s (fixture %s) with its shop', async (topic, file, table, columns) => {
    const shop = newShop();
    const body = remap(fixture(file), new Map());
    await accepted(topic, body, { shop });
    await settled();
    const names = Object.keys(columns);
    const stored = await rows(
      `SELECT shop, is_deleted, ${names.map((n) => `${n}::text AS ${n}`).join(', ')}, data->>'id' AS data_id
       FROM shopify.${table} WHERE id::text = $1`,
      [keyOf(table, body)],
    );
    expect(stored).toEqual([
      {
        shop,
        is_deleted: false,
        ...Object.fromEntries(Object.entries(columns).map(([k, v]) => [k, String(v)])),
        data_id: table === 'inventory_levels' ? keyOf(table, body) : String(body['id']),
      },
    ]);
    expect(await rows('SELECT domain, uninstalled_at FROM shopify.shops WHERE domain = $1', [shop])).toEqual([
      { domain: shop, uninstalled_at: null },
    ]);
  });

  it('stores a product with its variants, and an order with its line items and fulfillments', async () => {
    const shop = newShop();
    const ids = new Map<number, number>();
    const product = remap(fixture('products-create'), ids) as Json & { id: number; variants: { id: number }[] };
    const order = remap(fixture('orders-create'), ids) as Json & {
      id: number;
      line_items: { id: number }[];
      fulfillments: { id: number }[];
      customer: { id: number };
    };
    await accepted('products/create', product, { shop });
    await accepted('orders/create', order, { shop });
    await settled();
    expect(
      await rows(
        'SELECT id::text, shop, product_id::text, sku, price::text FROM shopify.product_variants WHERE product_id = $1 ORDER BY id',
        [product.id],
      ),
    ).toEqual([
      { id: String(product.variants[0]!.id), shop, product_id: String(product.id), sku: 'EX-TEE-S', price: '19.99' },
      { id: String(product.variants[1]!.id), shop, product_id: String(product.id), sku: 'EX-TEE-M', price: '19.99' },
    ]);
    const items = await rows(
      'SELECT id::text, shop, order_id::text, quantity FROM shopify.order_line_items WHERE order_id = $1 ORDER BY id',
      [order.id],
    );
    expect(items.map((item) => item['id']).sort()).toEqual(order.line_items.map((item) => String(item.id)).sort());
    expect(items.every((item) => item['shop'] === shop && item['quantity'] === 1)).toBe(true);
    expect(
      await rows('SELECT id::text, shop, status, tracking_number FROM shopify.fulfillments WHERE order_id = $1', [
        order.id,
      ]),
    ).toEqual([{ id: String(order.fulfillments[0]!.id), shop, status: 'success', tracking_number: '1Z2345' }]);
    expect(await rows('SELECT customer_id::text FROM shopify.orders WHERE id = $1', [order.id])).toEqual([
      { customer_id: String(order.customer.id) },
    ]);

    // A variant the product no longer lists is deleted with the next update.
    const update = { ...product, updated_at: at(1), variants: product.variants.slice(0, 1) };
    await accepted('products/update', update, { shop });
    await settled();
    expect(
      await rows('SELECT id::text, is_deleted FROM shopify.product_variants WHERE product_id = $1 ORDER BY id', [
        product.id,
      ]),
    ).toEqual([
      { id: String(product.variants[0]!.id), is_deleted: false },
      { id: String(product.variants[1]!.id), is_deleted: true },
    ]);
  });

  it('keeps the newer state whatever order states arrive in; a redelivery changes nothing', async () => {
    const shop = newShop();
    const product = remap(fixture('products-create'), new Map()) as Json & { id: number };
    const state = (title: string, seconds: number) => ({ ...product, title, updated_at: at(seconds) });
    const id = randomUUID();
    await accepted('products/update', state('newer', 20), { shop, id });
    await accepted('products/update', state('older', 10), { shop });
    const again = await deliver('products/update', state('newer', 20), { shop, id });
    expect(again).toEqual({ status: 200, body: { received: true, duplicate: true } });
    await settled();
    expect(await rows('SELECT title, updated_at FROM shopify.products WHERE id = $1', [product.id])).toEqual([
      { title: 'newer', updated_at: new Date(at(20)) },
    ]);
    expect(await rows('SELECT count(*)::int AS n FROM shopify.events WHERE id = $1', [id])).toEqual([{ n: 1 }]);

    // Older first, newer second: the newer lands.
    await accepted('products/update', state('newest', 30), { shop });
    await settled();
    expect(await rows('SELECT title FROM shopify.products WHERE id = $1', [product.id])).toEqual([{ title: 'newest' }]);
  });

  it('keys a delivery without X-Shopify-Webhook-Id by X-Shopify-Event-Id', async () => {
    const shop = newShop();
    const location = remap(fixture('locations-update'), new Map()) as Json & { id: number };
    const eventId = randomUUID();
    await accepted('locations/update', location, {
      shop,
      headers: { 'x-shopify-webhook-id': null, 'x-shopify-event-id': eventId },
    });
    await settled();
    expect(await rows('SELECT type, shop FROM shopify.events WHERE id = $1', [eventId])).toEqual([
      { type: 'locations/update', shop },
    ]);
  });

  /** Each delete topic after its object was stored: marked deleted, the object kept; children go too. */
  it.each([
    ['products/delete', 'products/create', 'products-create', 'products', 'title'],
    ['collections/delete', 'collections/create', 'collections-update', 'collections', 'title'],
    ['customers/delete', 'customers/create', 'customers-create', 'customers', 'email'],
    ['orders/delete', 'orders/create', 'orders-create', 'orders', 'name'],
    ['inventory_items/delete', 'inventory_items/create', 'inventory-items-update', 'inventory_items', 'sku'],
    [
      'inventory_levels/disconnect',
      'inventory_levels/connect',
      'inventory-levels-update',
      'inventory_levels',
      'available',
    ],
    ['locations/delete', 'locations/create', 'locations-update', 'locations', 'name'],
  ])('%s marks the row deleted and keeps its object', async (topic, create, file, table, column) => {
    const shop = newShop();
    const ids = new Map<number, number>();
    const object = remap(fixture(file), ids);
    const deletion = remap(
      fixture(file.replace(/-(create|update)$/, '-delete').replace('-levels-delete', '-levels-disconnect')),
      ids,
    );
    await accepted(create, object, { shop });
    await settled();
    const key = keyOf(table, object);
    const [before] = await rows(`SELECT ${column}::text AS v FROM shopify.${table} WHERE id::text = $1`, [key]);
    await accepted(topic, deletion, { shop });
    await settled();
    expect(
      await rows(`SELECT is_deleted, ${column}::text AS v FROM shopify.${table} WHERE id::text = $1`, [key]),
    ).toEqual([{ is_deleted: true, v: before!['v'] }]);
    // An older state arriving after the delete does not bring the object back.
    await accepted(create.replace(/create|connect$/, 'update'), object, { shop });
    await settled();
    expect(await rows(`SELECT is_deleted FROM shopify.${table} WHERE id::text = $1`, [key])).toEqual([
      { is_deleted: true },
    ]);
    if (table === 'products')
      expect(
        await rows('SELECT DISTINCT is_deleted FROM shopify.product_variants WHERE product_id = $1', [object['id']]),
      ).toEqual([{ is_deleted: true }]);
    if (table === 'orders') {
      for (const children of ['order_line_items', 'fulfillments'])
        expect(
          await rows(`SELECT DISTINCT is_deleted FROM shopify.${children} WHERE order_id = $1`, [object['id']]),
        ).toEqual([{ is_deleted: true }]);
    }
  });

  it.each<[string, Partial<Delivery>, number, string]>([
    ['a wrong HMAC', { secret: 'not-the-secret-at-all' }, 400, 'WEBHOOK_SIGNATURE_INVALID'],
    ['a malformed HMAC', { hmac: 'zz' }, 400, 'WEBHOOK_SIGNATURE_INVALID'],
    ['no HMAC', { hmac: null }, 400, 'WEBHOOK_SIGNATURE_INVALID'],
    ['no topic', { headers: { 'x-shopify-topic': null } }, 400, 'X-Shopify-Topic'],
    ['no shop domain', { headers: { 'x-shopify-shop-domain': null } }, 400, 'X-Shopify-Shop-Domain'],
    ['a shop domain not on myshopify.com', { shop: 'evil.example.com' }, 400, 'X-Shopify-Shop-Domain'],
    ['neither webhook nor event id', { headers: { 'x-shopify-webhook-id': null } }, 400, 'X-Shopify-Webhook-Id'],
    ['a signed body that is not JSON', { raw: 'not json' }, 400, 'BAD_REQUEST'],
    ['a signed body that is a JSON array', { raw: '[1,2]' }, 400, 'BAD_REQUEST'],
    ['a body over the limit', { raw: JSON.stringify({ pad: 'x'.repeat(2_000_000) }) }, 413, 'PAYLOAD_TOO_LARGE'],
  ])('refuses %s and stores nothing', async (_label, options, status, text) => {
    const before = await eventCount();
    const product = remap(fixture('products-create'), new Map());
    const answer = await deliver('products/update', product, { shop: newShop(), ...options });
    expect(answer.status).toBe(status);
    expect(JSON.stringify(answer.body)).toContain(text);
    expect(JSON.stringify(answer.body)).not.toMatch(/at .*\.ts:\d+/);
    expect(await eventCount()).toBe(before);
  });

  it("refuses a privacy body whose shop_domain is not the header's shop", async () => {
    const before = await eventCount();
    const body = { ...fixture('shop-redact'), shop_domain: newShop() };
    const answer = await deliver('shop/redact', body, { shop: newShop() });
    expect(answer.status).toBe(400);
    expect(JSON.stringify(answer.body)).toContain('shop_domain');
    expect(await eventCount()).toBe(before);
  });

  it('app/uninstalled marks the shop uninstalled, and its syncs stop', async () => {
    const runtime = { config: {} as ShopifyConfig, db: db.pool, log: createLogger('silent') };
    const instance = setupShopify({
      ...runtime,
      config: {
        apiKey: API_KEY,
        apiSecret: SECRET,
        apiVersion: ApiVersion.October26,
        mode: { shop: CONFIGURED_SHOP, accessToken: 'shpat_0123456789abcdef' },
        syncInterval: 0,
        webhookPath: '/webhooks/shopify',
        webhookMaxAttempts: 5,
        readRoles: [],
      },
    } as unknown as PluginRuntime<ShopifyConfig>);
    // The configured shop is recorded at start.
    expect(await instance.shopActive(CONFIGURED_SHOP)).toBe(true);
    const shop = newShop();
    await accepted('locations/update', remap(fixture('locations-update'), new Map()), { shop });
    await settled();
    expect(await instance.activeShops()).toContain(shop);

    const triggeredAt = '2031-02-03T04:05:06.000Z';
    await accepted('app/uninstalled', fixture('app-uninstalled'), { shop, triggeredAt });
    await settled();
    expect(await rows('SELECT name, uninstalled_at FROM shopify.shops WHERE domain = $1', [shop])).toEqual([
      { name: 'Super Toys', uninstalled_at: new Date(triggeredAt) },
    ]);
    expect(await instance.shopActive(shop)).toBe(false);
    expect(await instance.activeShops()).not.toContain(shop);
    // Later deliveries of the shop do not install it again.
    await accepted('locations/update', remap(fixture('locations-update'), new Map()), { shop });
    await settled();
    expect(await instance.shopActive(shop)).toBe(false);
  });
});

describe('privacy webhooks', () => {
  /** The customer's personal data as the fixtures hold it. */
  const PERSONAL = [
    'john@example.com',
    'jon@example.com',
    '+16135551111',
    '+15555550100',
    '555-625-1199',
    '123-123-1234',
    '192.0.2.10',
    'Shipper',
    'Leave at the back door',
    'Happy birthday',
  ];

  /** A shop with a customer, two of their orders, another customer's order, and a product. */
  async function seed() {
    const shop = newShop();
    const ids = new Map<number, number>();
    const customer = remap(fixture('customers-create'), ids) as Json & { id: number };
    const order = remap(fixture('orders-create'), ids) as Json & { id: number; line_items: { id: number }[] };
    const second = remap({ ...fixture('orders-create'), id: 1, name: '#10000' }, ids) as Json & { id: number };
    // Line items and fulfillments have ids of their own.
    for (const key of ['line_items', 'fulfillments'] as const)
      second[key] = (second[key] as Json[]).map((item) => ({
        ...item,
        id: nextId++,
        ...(key === 'fulfillments' && { order_id: second.id }),
      }));
    const other = {
      id: nextId++,
      name: '#1001',
      email: 'other@example.com',
      customer: { id: nextId++, email: 'other@example.com' },
      total_price: '10.00',
      currency: 'USD',
      updated_at: at(5),
      line_items: [],
      fulfillments: [],
    };
    const product = remap(fixture('products-create'), ids) as Json & { id: number };
    await accepted('customers/create', customer, { shop });
    await accepted('orders/create', order, { shop });
    await accepted('orders/create', second, { shop });
    await accepted('orders/create', other, { shop });
    await accepted('products/create', product, { shop });
    await settled();
    return { shop, ids, customer, order, second, other, product };
  }

  it('customers/data_request keeps the customer’s stored data from every table', async () => {
    const { shop, ids, customer, order, second } = await seed();
    const request = remap(fixture('customers-data-request'), ids) as Json & { data_request: { id: number } };
    Object.assign(request, {
      shop_domain: shop,
      customer: { ...(request['customer'] as Json), id: customer.id },
      orders_requested: [order.id],
    });
    const { body } = await accepted('customers/data_request', request, { shop });
    expect(body).toEqual({ received: true, duplicate: false });
    await settled();
    const [stored] = await rows(
      'SELECT kind, customer_id::text, data_request_id::text, result FROM shopify.privacy_requests WHERE shop = $1',
      [shop],
    );
    expect(stored).toMatchObject({
      kind: 'customers/data_request',
      customer_id: String(customer.id),
      data_request_id: String(request.data_request.id),
    });
    const result = stored!['result'] as Record<string, Json[]>;
    expect(result['customers']!.map((c) => c['email'])).toEqual(['john@example.com']);
    // The order asked for and the customer's other order, not the other customer's.
    expect(result['orders']!.map((o) => o['name']).sort()).toEqual(['#10000', '#9999']);
    expect(result['order_line_items']).toHaveLength(4);
    expect(result['fulfillments']).toHaveLength(2);
    expect(second.id).not.toBe(order.id);
  });

  it('customers/redact erases the customer’s personal data from every table', async () => {
    const { shop, ids, customer, order, second, other, product } = await seed();
    const request = remap(fixture('customers-data-request'), ids);
    Object.assign(request, { shop_domain: shop, customer: { ...(request['customer'] as Json), id: customer.id } });
    await accepted('customers/data_request', request, { shop });
    await settled();
    expect(await holding(shop, PERSONAL)).not.toEqual([]);

    const redact = remap(fixture('customers-redact'), ids);
    Object.assign(redact, {
      shop_domain: shop,
      customer: { ...(redact['customer'] as Json), id: customer.id },
      orders_to_redact: [order.id],
    });
    await accepted('customers/redact', redact, { shop });
    await settled();

    expect(await holding(shop, PERSONAL)).toEqual([]);
    expect(await rows('SELECT id FROM shopify.customers WHERE id = $1', [customer.id])).toEqual([]);
    // Orders keep what is not personal.
    expect(
      await rows(
        `SELECT name, total_price::text, customer_id, email, jsonb_array_length(data->'line_items') AS items
         FROM shopify.orders WHERE id = ANY($1) ORDER BY name`,
        [[order.id, second.id]],
      ),
    ).toEqual([
      { name: '#10000', total_price: '398.00', customer_id: null, email: null, items: 2 },
      { name: '#9999', total_price: '398.00', customer_id: null, email: null, items: 2 },
    ]);
    // Another customer's order and the shop's products are untouched.
    expect(await rows('SELECT email FROM shopify.orders WHERE id = $1', [other.id])).toEqual([
      { email: 'other@example.com' },
    ]);
    expect(await rows('SELECT title FROM shopify.products WHERE id = $1', [product.id])).toEqual([
      { title: 'Example T-Shirt' },
    ]);
    expect(
      await rows('SELECT kind, result FROM shopify.privacy_requests WHERE shop = $1 ORDER BY kind', [shop]),
    ).toEqual([
      { kind: 'customers/data_request', result: null },
      { kind: 'customers/redact', result: null },
    ]);
  });

  it('shop/redact deletes every row of the shop, and only of that shop', async () => {
    const { shop } = await seed();
    const kept = newShop();
    const keptProduct = remap(fixture('products-create'), new Map()) as Json & { id: number };
    await accepted('products/create', keptProduct, { shop: kept });
    await accepted('inventory_levels/update', remap(fixture('inventory-levels-update'), new Map()), { shop });
    await accepted('locations/create', remap(fixture('locations-update'), new Map()), { shop });
    await accepted('collections/create', remap(fixture('collections-update'), new Map()), { shop });
    await accepted('inventory_items/create', remap(fixture('inventory-items-update'), new Map()), { shop });
    await db.pool.query("INSERT INTO shopify.sessions (id, shop, access_token) VALUES ($1, $2, 'shpat_x')", [
      `offline_${shop}`,
      shop,
    ]);
    await settled();
    const counts = async (domain: string) => {
      const found: Record<string, number> = {};
      for (const { table, column } of await shopTables()) {
        const [row] = await rows(`SELECT count(*)::int AS n FROM shopify.${table} WHERE ${column} = $1`, [domain]);
        found[table] = row!['n'] as number;
      }
      return found;
    };
    const before = await counts(shop);
    for (const table of ['products', 'product_variants', 'customers', 'orders', 'order_line_items', 'fulfillments'])
      expect(before[table], table).toBeGreaterThan(0);
    const keptBefore = await counts(kept);

    const id = randomUUID();
    await accepted('shop/redact', { ...fixture('shop-redact'), shop_domain: shop }, { shop, id });
    await settled();
    const after = await counts(shop);
    // Only the record that the shop was erased is left: the request in the log and its outcome.
    expect(after).toEqual(
      Object.fromEntries(
        Object.keys(before).map((table) => [table, ['events', 'privacy_requests'].includes(table) ? 1 : 0]),
      ),
    );
    expect(await rows('SELECT id FROM shopify.events WHERE shop = $1', [shop])).toEqual([{ id }]);
    expect(await rows('SELECT kind FROM shopify.privacy_requests WHERE shop = $1', [shop])).toEqual([
      { kind: 'shop/redact' },
    ]);
    expect(await counts(kept)).toEqual(keptBefore);
  });
});
