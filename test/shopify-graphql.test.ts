/**
 * The GraphQL API over the synced Shopify tables, every statement held to the shops the reader may
 * see. Rows arrive for two shops through the real path (signed webhooks; collection memberships,
 * which only the bulk backfill brings, through the plugin's store). A merchant whose session names
 * shop A sees A's rows in every field and relation, and nothing of B's however asked (lookup by
 * B's id, filters, a B row pointing at A's product); admin sees both; a session naming no shop
 * sees nothing; a malformed list, an anonymous caller and a role outside SHOPIFY_READ_ROLES are
 * refused; each root field is one SQL statement; syncShopify and shopifyEvents are admin-only.
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createSyncStore } from '../gateway/sync/store.ts';
import { shopifySyncTables } from '../plugins/shopify/resources.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { startTestGateway, type TestGateway } from './support/gateway.ts';
import { startStatementRecorder, type StatementRecorder } from './support/pg-statements.ts';
import { ADMIN_SECRET, signToken } from './support/tokens.ts';
import { connectWs } from './support/ws-client.ts';

const SECRET = randomBytes(24).toString('hex');
const admin = { 'x-hasura-admin-secret': ADMIN_SECRET };
const SHOPS_VARIABLE = 'x-hasura-shopify-shops';
let db: TestDatabase;
let recorder: StatementRecorder;
let gateway: TestGateway;

const suffix = randomBytes(4).toString('hex');
const SHOP_A = `alpha-${suffix}.myshopify.com`;
const SHOP_B = `beta-${suffix}.myshopify.com`;

let nextId = 7_000_000_000_000 + (Date.now() % 1_000_000) * 1000;
const freshId = () => nextId++;
const at = (seconds: number) => new Date(Date.UTC(2030, 0, 1, 0, 0, seconds)).toISOString();

/** The ids of one shop's objects. */
interface ShopRows {
  shop: string;
  product: number;
  variant: number;
  collection: number;
  customer: number;
  order: number;
  lineItem: number;
  fulfillment: number;
  inventoryItem: number;
  location: number;
}
const rowsOf: Record<string, ShopRows> = {};

async function deliver(shop: string, topic: string, body: unknown) {
  const text = JSON.stringify(body);
  const response = await fetch(`${gateway.url}/webhooks/shopify`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-shopify-topic': topic,
      'x-shopify-hmac-sha256': createHmac('sha256', SECRET).update(text, 'utf8').digest('base64'),
      'x-shopify-shop-domain': shop,
      'x-shopify-api-version': '2026-10',
      'x-shopify-webhook-id': randomUUID(),
      'x-shopify-triggered-at': new Date().toISOString(),
    },
    body: text,
  });
  expect(response.status, await response.text()).toBe(200);
}

/** One shop's catalog, customer, order and stock, as Shopify's webhooks carry them (REST shapes). */
async function seedShop(shop: string, n: number): Promise<ShopRows> {
  const ids: ShopRows = {
    shop,
    product: freshId(),
    variant: freshId(),
    collection: freshId(),
    customer: freshId(),
    order: freshId(),
    lineItem: freshId(),
    fulfillment: freshId(),
    inventoryItem: freshId(),
    location: freshId(),
  };
  // The same handle, vendor, sku, email and order name in both shops: only the scope tells them apart.
  await deliver(shop, 'products/create', {
    id: ids.product,
    title: `Tee of shop ${n}`,
    handle: 'tee',
    vendor: 'Acme',
    product_type: 'Shirts',
    status: 'active',
    created_at: at(n),
    updated_at: at(10 + n),
    variants: [
      {
        id: ids.variant,
        product_id: ids.product,
        sku: 'TEE-S',
        title: 'Small',
        price: '19.99',
        inventory_item_id: ids.inventoryItem,
        updated_at: at(10 + n),
      },
    ],
  });
  await deliver(shop, 'collections/create', {
    id: ids.collection,
    title: `Summer ${n}`,
    handle: 'summer',
    updated_at: at(10 + n),
  });
  await deliver(shop, 'customers/create', {
    id: ids.customer,
    email: `Buyer@Example.com`,
    first_name: `Buyer ${n}`,
    state: 'enabled',
    updated_at: at(10 + n),
  });
  await deliver(shop, 'orders/create', {
    id: ids.order,
    name: '#1001',
    email: 'buyer@example.com',
    customer: { id: ids.customer, email: 'buyer@example.com' },
    financial_status: 'paid',
    fulfillment_status: 'fulfilled',
    total_price: '19.99',
    currency: 'USD',
    created_at: at(n),
    updated_at: at(10 + n),
    line_items: [
      {
        id: ids.lineItem,
        product_id: ids.product,
        variant_id: ids.variant,
        sku: 'TEE-S',
        title: `Tee of shop ${n}`,
        quantity: n,
      },
    ],
    fulfillments: [
      {
        id: ids.fulfillment,
        order_id: ids.order,
        status: 'success',
        tracking_number: `TRACK-${n}`,
        updated_at: at(10 + n),
      },
    ],
  });
  await deliver(shop, 'locations/create', {
    id: ids.location,
    name: `Depot ${n}`,
    active: true,
    updated_at: at(10 + n),
  });
  await deliver(shop, 'inventory_items/create', {
    id: ids.inventoryItem,
    sku: 'TEE-S',
    tracked: true,
    updated_at: at(10 + n),
  });
  await deliver(shop, 'inventory_levels/update', {
    inventory_item_id: ids.inventoryItem,
    location_id: ids.location,
    available: 10 * n,
    updated_at: at(10 + n),
  });
  return ids;
}

async function gql(query: string, headers: Record<string, string>, variables: Record<string, unknown> = {}) {
  return (await gateway.gql(query, { variables, headers })).body;
}
async function data<T = Record<string, unknown>>(
  query: string,
  headers: Record<string, string>,
  variables: Record<string, unknown> = {},
): Promise<T> {
  const body = await gql(query, headers, variables);
  expect(body.errors).toBeUndefined();
  return body.data as T;
}
const nodes = <T>(connection: { edges: { node: T }[] }) => connection.edges.map((edge) => edge.node);
const shopifyStatements = () => recorder.statements().filter((sql) => sql.includes('"shopify".'));
const bearer = async (role: string, extra?: Record<string, string>) => ({
  authorization: `Bearer ${await signToken({ userId: `u-${role}`, defaultRole: role, ...(extra && { extra }) })}`,
});

let merchantA: Record<string, string>;
let merchantAB: Record<string, string>;
let merchantNone: Record<string, string>;

beforeAll(async () => {
  db = await createTestDatabase();
  const url = new URL(db.url);
  recorder = await startStatementRecorder(url.hostname, Number(url.port || 5432));
  url.port = String(recorder.port);
  gateway = await startTestGateway({
    databaseUrl: url.toString(),
    env: {
      SHOPIFY_API_KEY: `key${randomBytes(8).toString('hex')}`,
      SHOPIFY_API_SECRET: SECRET,
      SHOPIFY_SHOP: SHOP_A,
      // No Admin API call happens in these tests: webhooks carry their objects.
      SHOPIFY_ACCESS_TOKEN: `shpat_${randomBytes(16).toString('hex')}`,
      SHOPIFY_ADMIN_URL: 'http://127.0.0.1:9/{shop}',
      SHOPIFY_SYNC_INTERVAL: '0',
      SHOPIFY_READ_ROLES: 'merchant',
    },
  });
  rowsOf[SHOP_A] = await seedShop(SHOP_A, 1);
  rowsOf[SHOP_B] = await seedShop(SHOP_B, 2);
  const a = rowsOf[SHOP_A]!;
  const b = rowsOf[SHOP_B]!;
  // expect.poll needs a test: vi.waitFor is beforeAll's polling helper.
  await vi.waitFor(
    async () => {
      const { rows } = await db.pool.query("SELECT count(*)::int AS n FROM shopify.events WHERE status <> 'processed'");
      expect(rows[0].n).toBe(0);
    },
    { timeout: 10_000, interval: 50 },
  );
  // Collection memberships come from the bulk backfill only: written through the plugin's store.
  // B's second one points at A's product (a crafted row): a reader of either shop never follows it out.
  const store = createSyncStore(shopifySyncTables());
  const membership = (shop: string, collection: number, product: number) => ({
    table: 'collection_products',
    object: { id: `${collection}/${product}`, shop, collection_id: collection, product_id: product },
    deleted: false,
    versionAt: Date.parse(at(20)) / 1000,
    eventId: null,
  });
  await store.write(db.pool, [
    membership(SHOP_A, a.collection, a.product),
    membership(SHOP_B, b.collection, b.product),
    membership(SHOP_B, b.collection, a.product),
  ]);
  merchantA = await bearer('merchant', { [SHOPS_VARIABLE]: SHOP_A });
  merchantAB = await bearer('merchant', { [SHOPS_VARIABLE]: `${SHOP_A},${SHOP_B}` });
  merchantNone = await bearer('merchant');
}, 60_000);

afterAll(async () => {
  await gateway?.close();
  await recorder?.cut();
  await db?.drop();
});

const PRODUCTS = `query($filter: ShopifyProductFilter) { shopifyProducts(filter: $filter) { edges { node {
  id shop title handle status vendor productType
  variants { edges { node { id sku price inventoryItem { id sku } } } }
  collections { edges { node { collection { title } product { id } } } }
} } } }`;
interface Product {
  id: string;
  shop: string;
  title: string;
  variants: { edges: { node: { id: string; sku: string; inventoryItem: { id: string } | null } }[] };
  collections: { edges: { node: { collection: { title: string } | null; product: { id: string } | null } }[] };
}

const ORDERS = `query($filter: ShopifyOrderFilter) { shopifyOrders(filter: $filter) { edges { node {
  id shop name financialStatus fulfillmentStatus totalPrice
  customer { id email orders { edges { node { id } } } }
  lineItems { edges { node { id sku quantity product { id } variant { id } order { id } } } }
  fulfillments { edges { node { id status trackingNumber order { id } } } }
} } } }`;

describe('a merchant of shop A', () => {
  it("sees only A's products, with A's variants, stock and collections, in one statement", async () => {
    const a = rowsOf[SHOP_A]!;
    recorder.reset();
    const { shopifyProducts } = await data<{ shopifyProducts: { edges: { node: Product }[] } }>(PRODUCTS, merchantA);
    expect(shopifyStatements()).toHaveLength(1);
    expect(nodes(shopifyProducts)).toEqual([
      {
        id: String(a.product),
        shop: SHOP_A,
        title: 'Tee of shop 1',
        handle: 'tee',
        status: 'active',
        vendor: 'Acme',
        productType: 'Shirts',
        variants: {
          edges: [
            {
              node: {
                id: String(a.variant),
                sku: 'TEE-S',
                price: '19.99',
                inventoryItem: { id: String(a.inventoryItem), sku: 'TEE-S' },
              },
            },
          ],
        },
        // B's crafted membership of A's product is not A's to see.
        collections: { edges: [{ node: { collection: { title: 'Summer 1' }, product: { id: String(a.product) } } }] },
      },
    ]);
  });

  it("sees only A's orders with their lines, fulfillments and customer, in one statement", async () => {
    const a = rowsOf[SHOP_A]!;
    recorder.reset();
    const { shopifyOrders } = await data<{ shopifyOrders: { edges: { node: unknown }[] } }>(ORDERS, merchantA);
    expect(shopifyStatements()).toHaveLength(1);
    expect(nodes(shopifyOrders)).toEqual([
      {
        id: String(a.order),
        shop: SHOP_A,
        name: '#1001',
        financialStatus: 'paid',
        fulfillmentStatus: 'fulfilled',
        totalPrice: '19.99',
        customer: {
          id: String(a.customer),
          email: 'Buyer@Example.com',
          orders: { edges: [{ node: { id: String(a.order) } }] },
        },
        lineItems: {
          edges: [
            {
              node: {
                id: String(a.lineItem),
                sku: 'TEE-S',
                quantity: 1,
                product: { id: String(a.product) },
                variant: { id: String(a.variant) },
                order: { id: String(a.order) },
              },
            },
          ],
        },
        fulfillments: {
          edges: [
            {
              node: {
                id: String(a.fulfillment),
                status: 'success',
                trackingNumber: 'TRACK-1',
                order: { id: String(a.order) },
              },
            },
          ],
        },
      },
    ]);
  });

  it("finds A's customer by email ignoring case, and A's stock at A's location", async () => {
    const a = rowsOf[SHOP_A]!;
    recorder.reset();
    const { shopifyCustomers } = await data<{ shopifyCustomers: { edges: { node: { id: string } }[] } }>(
      '{ shopifyCustomers(filter: { email: "BUYER@example.COM" }) { edges { node { id shop } } } }',
      merchantA,
    );
    expect(nodes(shopifyCustomers)).toEqual([{ id: String(a.customer), shop: SHOP_A }]);
    const { shopifyInventory } = await data<{ shopifyInventory: { edges: { node: unknown }[] } }>(
      `query($location: String!) { shopifyInventory(locationId: $location) {
        edges { node { id available inventoryItem { id sku } location { id } } } } }`,
      merchantA,
      { location: String(a.location) },
    );
    expect(nodes(shopifyInventory)).toEqual([
      {
        id: `${a.inventoryItem}/${a.location}`,
        available: 10,
        inventoryItem: { id: String(a.inventoryItem), sku: 'TEE-S' },
        location: { id: String(a.location) },
      },
    ]);
    expect(shopifyStatements()).toHaveLength(2);
  });

  it.each([
    ['shopifyProduct', 'product'],
    ['shopifyProductVariant', 'variant'],
    ['shopifyCollection', 'collection'],
    ['shopifyCustomer', 'customer'],
    ['shopifyOrder', 'order'],
    ['shopifyOrderLineItem', 'lineItem'],
    ['shopifyFulfillment', 'fulfillment'],
    ['shopifyInventoryItem', 'inventoryItem'],
    ['shopifyLocation', 'location'],
  ] as const)("gets A's row by id from %s, and null for B's id", async (field, key) => {
    const query = `query($id: ID!) { ${field}(id: $id) { id shop } }`;
    const own = await data<Record<string, unknown>>(query, merchantA, { id: String(rowsOf[SHOP_A]![key]) });
    expect(own[field]).toEqual({ id: String(rowsOf[SHOP_A]![key]), shop: SHOP_A });
    recorder.reset();
    const other = await data<Record<string, unknown>>(query, merchantA, { id: String(rowsOf[SHOP_B]![key]) });
    expect(other[field]).toBeNull();
    expect(shopifyStatements()).toHaveLength(1);
    // The admin does get it: the row is there.
    const byAdmin = await data<Record<string, unknown>>(query, admin, { id: String(rowsOf[SHOP_B]![key]) });
    expect(byAdmin[field]).toEqual({ id: String(rowsOf[SHOP_B]![key]), shop: SHOP_B });
  });

  it("cannot widen the scope with filters: B's customer, location and collection stay out", async () => {
    const b = rowsOf[SHOP_B]!;
    const { shopifyOrders } = await data<{ shopifyOrders: { edges: unknown[] } }>(ORDERS, merchantA, {
      filter: { customer: String(b.customer) },
    });
    expect(shopifyOrders.edges).toEqual([]);
    const { shopifyInventory } = await data<{ shopifyInventory: { edges: unknown[] } }>(
      `query($location: String!) { shopifyInventory(locationId: $location) { edges { node { id } } } }`,
      merchantA,
      { location: String(b.location) },
    );
    expect(shopifyInventory.edges).toEqual([]);
    // Not a number: refused as the caller's mistake, not an internal error.
    const notAnId = await gql('{ shopifyInventory(locationId: "depot") { edges { node { id } } } }', merchantA);
    expect(notAnId.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    const { shopifyCollectionProducts } = await data<{ shopifyCollectionProducts: { edges: unknown[] } }>(
      `query($collection: String) { shopifyCollectionProducts(filter: { collection: $collection }) { edges { node { id } } } }`,
      merchantA,
      { collection: String(b.collection) },
    );
    expect(shopifyCollectionProducts.edges).toEqual([]);
  });
});

describe('other readers', () => {
  it('gives the admin both shops, and a merchant naming both shops both', async () => {
    for (const headers of [admin, merchantAB]) {
      const { shopifyProducts } = await data<{ shopifyProducts: { edges: { node: Product }[] } }>(PRODUCTS, headers, {
        filter: { handle: 'tee', vendor: 'Acme', status: 'active', productType: 'Shirts' },
      });
      const products = nodes(shopifyProducts);
      expect(products.map((product) => product.shop)).toEqual([SHOP_B, SHOP_A]);
      // B's collection holds B's product and (its crafted row) A's.
      const ofB = products[0]!.collections.edges.map((edge) => edge.node.product?.id).sort();
      expect(ofB).toEqual([String(rowsOf[SHOP_B]!.product)]);
      const { shopifyCollection } = await data<{
        shopifyCollection: { products: { edges: { node: { product: { id: string } | null } }[] } };
      }>('query($id: ID!) { shopifyCollection(id: $id) { products { edges { node { product { id } } } } } }', headers, {
        id: String(rowsOf[SHOP_B]!.collection),
      });
      expect(shopifyCollection.products.edges.map((edge) => edge.node.product?.id).sort()).toEqual(
        [String(rowsOf[SHOP_A]!.product), String(rowsOf[SHOP_B]!.product)].sort(),
      );
    }
  });

  it("holds B's crafted membership to B for a merchant of B: A's product is null", async () => {
    const merchantB = await bearer('merchant', { [SHOPS_VARIABLE]: SHOP_B });
    const { shopifyCollection } = await data<{
      shopifyCollection: { products: { edges: { node: { id: string; product: { id: string } | null } }[] } };
    }>(
      'query($id: ID!) { shopifyCollection(id: $id) { products { edges { node { id product { id } } } } } }',
      merchantB,
      { id: String(rowsOf[SHOP_B]!.collection) },
    );
    const byProduct = shopifyCollection.products.edges.map((edge) => edge.node.product?.id ?? null);
    expect(byProduct.sort()).toEqual([String(rowsOf[SHOP_B]!.product), null].sort());
  });

  it('shows a merchant whose session names no shop nothing, without an error', async () => {
    for (const query of [
      PRODUCTS,
      ORDERS,
      '{ shopifyCustomers { edges { node { id } } } }',
      `{ shopifyInventory(locationId: "${rowsOf[SHOP_A]!.location}") { edges { node { id } } } }`,
    ]) {
      const answer = await data<Record<string, { edges: unknown[] }>>(query, merchantNone);
      expect(Object.values(answer)[0]!.edges).toEqual([]);
    }
    const { shopifyProduct } = await data<{ shopifyProduct: unknown }>(
      'query($id: ID!) { shopifyProduct(id: $id) { id } }',
      merchantNone,
      {
        id: String(rowsOf[SHOP_A]!.product),
      },
    );
    expect(shopifyProduct).toBeNull();
  });

  it.each([
    ['not a shop domain', 'evil.example.com'],
    ['a SQL fragment', `${SHOP_A}' OR true --`],
    ['over 100 shops', Array.from({ length: 101 }, (_, i) => `s${i}.myshopify.com`).join(',')],
  ])('refuses a session whose shop list is %s with SHOPIFY_SHOPS_INVALID', async (_what, value) => {
    const headers = await bearer('merchant', { [SHOPS_VARIABLE]: value });
    const body = await gql(PRODUCTS, headers);
    expect(body.data?.['shopifyProducts'] ?? null).toBeNull();
    expect(body.errors?.[0]?.extensions?.['code']).toBe('SHOPIFY_SHOPS_INVALID');
  });

  it('refuses an anonymous caller and a role outside SHOPIFY_READ_ROLES, whatever shops they name', async () => {
    const outsider = await bearer('user', { [SHOPS_VARIABLE]: SHOP_A });
    for (const headers of [{}, outsider]) {
      for (const query of [PRODUCTS, ORDERS, `{ shopifyProduct(id: "${rowsOf[SHOP_A]!.product}") { id } }`]) {
        const body = await gql(query, headers);
        expect(
          Object.values(body.data ?? {}).filter((value) => value !== null),
          query,
        ).toEqual([]);
        // A signed-in role outside the list is forbidden; an anonymous caller either (as the authorization matrix has it).
        expect(body.errors?.[0]?.extensions?.['code']).toMatch(
          headers === outsider ? /^FORBIDDEN$/ : /^(FORBIDDEN|UNAUTHENTICATED)$/,
        );
      }
    }
  });
});

describe('sync control', () => {
  it('lets only the admin start a sync, follow runs and read the sync state', async () => {
    for (const headers of [merchantA, {}]) {
      for (const query of [
        'mutation { syncShopify(resources: ["locations"]) { id } }',
        '{ shopifySyncStatus { resource } }',
        `{ shopifySyncRun(id: "${randomUUID()}") { id } }`,
      ]) {
        const body = await gql(query, headers);
        expect(body.errors?.[0]?.extensions?.['code'], query).toMatch(/^(FORBIDDEN|UNAUTHENTICATED)$/);
      }
    }
    const body = await gql('mutation { syncShopify(resources: ["nope"]) { id } }', admin);
    expect(body.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
    // A run starts and is answered at once; nothing listens at the Admin URL, so it fails.
    const { syncShopify } = await data<{ syncShopify: { id: string; status: string; resources: string[] } }>(
      'mutation { syncShopify(resources: ["locations"]) { id status resources } }',
      admin,
    );
    expect(syncShopify).toMatchObject({ status: 'running', resources: ['locations'] });
    await expect
      .poll(
        async () =>
          (
            await data<{ shopifySyncRun: { status: string } }>(
              `{ shopifySyncRun(id: "${syncShopify.id}") { status } }`,
              admin,
            )
          ).shopifySyncRun.status,
        { timeout: 20_000 },
      )
      .toBe('failed');
  });

  it('streams applied orders/* events, with their shop and topic, to the admin only', async () => {
    const refused = connectWs(gateway.wsUrl, { headers: merchantA });
    const denied = refused.subscribe('subscription { shopifyEvents(types: ["orders/*"]) { id } }');
    const answer = await denied.next();
    expect(answer.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
    await refused.client.dispose();

    const ws = connectWs(gateway.wsUrl, { headers: admin });
    try {
      const events = ws.subscribe<{ shopifyEvents: { type: string; shop: string; topic: string } }>(
        'subscription { shopifyEvents(types: ["orders/*"]) { type shop topic } }',
      );
      const first = events.next();
      await ws.connected;
      await expect
        .poll(
          async () => {
            await deliver(SHOP_B, 'locations/update', {
              id: rowsOf[SHOP_B]!.location,
              name: 'Depot 2',
              updated_at: new Date().toISOString(),
            });
            await deliver(SHOP_B, 'orders/updated', {
              id: rowsOf[SHOP_B]!.order,
              name: '#1001',
              updated_at: new Date().toISOString(),
            });
            return Promise.race([first.then(() => true), new Promise((resolve) => setTimeout(resolve, 300, false))]);
          },
          { timeout: 10_000 },
        )
        .toBe(true);
      expect((await first).data?.shopifyEvents).toEqual({
        type: 'orders/updated',
        shop: SHOP_B,
        topic: 'orders/updated',
      });
    } finally {
      await ws.client.dispose();
    }
  });
});
