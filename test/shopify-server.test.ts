/**
 * The local Shopify stand-in (test/support/shopify-server.ts) behaves like the Admin API for the
 * real libraries (@shopify/admin-api-client, @shopify/shopify-api): cursor pagination, search,
 * nested connections, cost-based throttling, bulk operations and their JSONL, signed webhooks,
 * OAuth, and authentication.
 */
import '@shopify/shopify-api/adapters/node';
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdminApiClient, type AdminApiClient } from '@shopify/admin-api-client';
import {
  type ApiVersion,
  GraphqlQueryError,
  LogSeverity,
  Session,
  shopifyApi,
  type Shopify,
} from '@shopify/shopify-api';
import { setAbstractFetchFunc } from '@shopify/shopify-api/runtime';
import { afterAll, beforeAll, describe, expect, it, test } from 'vitest';
import {
  shopifyFetchFor,
  shopifyQueryCost,
  shopifyWebhook,
  webhookTopicName,
  startShopifyServer,
  type ShopifyServer,
  type ShopifyShop,
} from './support/shopify-server.ts';

let server: ShopifyServer;
let shopify: Shopify;
let admin: AdminApiClient;

function adminClient(shop: ShopifyShop, accessToken = shop.accessToken): AdminApiClient {
  return createAdminApiClient({
    storeDomain: shop.shopDomain,
    apiVersion: server.apiVersion,
    accessToken,
    customFetchApi: shopifyFetchFor(server),
  });
}

function graphqlClient(shop: ShopifyShop, accessToken = shop.accessToken) {
  const session = new Session({ id: `offline_${shop.shopDomain}`, shop: shop.shopDomain, state: '', isOnline: false });
  session.accessToken = accessToken;
  return new shopify.clients.Graphql({ session });
}

beforeAll(async () => {
  server = await startShopifyServer({ bulkDurationMs: 150 });
  server.seed({ products: 600, variantsPerProduct: 3, customers: 40, orders: 60, collections: 3, locations: 2 });
  shopify = shopifyApi({
    apiKey: server.apiKey,
    apiSecretKey: server.apiSecretKey,
    apiVersion: server.apiVersion as ApiVersion,
    scopes: ['read_products', 'read_orders'],
    hostName: 'app.example.com',
    hostScheme: 'https',
    isEmbeddedApp: false,
    logger: { level: LogSeverity.Error, log: () => {} },
  });
  // shopify-api's runtime fetch, through which its clients and auth.callback reach shops.
  setAbstractFetchFunc(shopifyFetchFor(server));
  admin = adminClient(server);
});

afterAll(async () => {
  setAbstractFetchFunc(globalThis.fetch);
  await server?.close();
});

const PRODUCTS_PAGE = /* GraphQL */ `
  query Products($first: Int!, $after: String, $query: String, $sortKey: ProductSortKeys) {
    products(first: $first, after: $after, query: $query, sortKey: $sortKey) {
      edges { cursor node { id legacyResourceId title handle updatedAt } }
      pageInfo { hasNextPage endCursor }
    }
  }
`;

interface ProductsPage {
  products: {
    edges: { cursor: string; node: { id: string; legacyResourceId: string; title: string; updatedAt: string } }[];
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  };
}

describe('queries', () => {
  it('answers shop with its identity and the cost extension', async () => {
    const response = await admin.request<{ shop: { id: string; name: string; myshopifyDomain: string } }>(
      'query { shop { id name myshopifyDomain } }',
    );
    expect(response.errors).toBeUndefined();
    expect(response.data?.shop).toEqual({
      id: server.shopId,
      name: 'Plugboard Test',
      myshopifyDomain: 'plugboard-test.myshopify.com',
    });
    expect(response.extensions?.cost).toMatchObject({
      requestedQueryCost: 1,
      actualQueryCost: 1,
      throttleStatus: { maximumAvailable: 2000, restoreRate: 100 },
    });
  });

  it('pages 600 products by 250 with cursors through shopify-api', async () => {
    const client = graphqlClient(server);
    const seen: string[] = [];
    const pageSizes: number[] = [];
    let after: string | null = null;
    for (;;) {
      const response: { data?: ProductsPage; extensions?: Record<string, unknown> } =
        await client.request<ProductsPage>(PRODUCTS_PAGE, { variables: { first: 250, after } });
      const page: ProductsPage['products'] | undefined = response.data?.products;
      if (!page) throw new Error('no page');
      pageSizes.push(page.edges.length);
      seen.push(...page.edges.map((edge) => edge.node.id));
      expect(response.extensions?.cost).toMatchObject({
        requestedQueryCost: 252,
        actualQueryCost: 2 + page.edges.length,
      });
      if (!page.pageInfo.hasNextPage) break;
      expect(page.pageInfo.endCursor).toBe(page.edges[page.edges.length - 1]?.cursor);
      after = page.pageInfo.endCursor;
    }
    expect(pageSizes).toEqual([250, 250, 100]);
    expect(new Set(seen).size).toBe(600);
    // Sorted by id (Shopify's default): legacy ids ascending.
    const ids = seen.map((id) => Number(id.split('/').pop()));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(seen[0]).toMatch(/^gid:\/\/shopify\/Product\/\d+$/);
  });

  it('refuses a page above 250 as Shopify does', async () => {
    const response = await admin.request(PRODUCTS_PAGE, { variables: { first: 251 } });
    expect(response.data?.products ?? null).toBeNull();
    expect(response.errors?.graphQLErrors?.[0]?.message).toMatch(/250/);
  });

  it('filters by updated_at with Shopify search syntax, sorted by UPDATED_AT', async () => {
    const [first, second, third] = server.store.products.sorted('ID', (p) => Number(p.legacyResourceId)).records;
    if (!first || !second || !third) throw new Error('no products');
    server.updateProduct(first.id, { title: 'Renamed later', updatedAt: '2030-01-02T00:00:00Z' });
    server.updateProduct(second.id, { title: 'Renamed first', updatedAt: '2030-01-01T00:00:00Z' });
    server.updateProduct(third.id, { title: 'Renamed last', updatedAt: '2030-01-03T00:00:00Z' });

    const strictly = await admin.request<ProductsPage>(PRODUCTS_PAGE, {
      variables: { first: 10, query: "updated_at:>'2030-01-01T00:00:00Z'", sortKey: 'UPDATED_AT' },
    });
    expect(strictly.data?.products.edges.map((e) => e.node.title)).toEqual(['Renamed later', 'Renamed last']);

    const inclusive = await admin.request<ProductsPage>(PRODUCTS_PAGE, {
      variables: { first: 2, query: "updated_at:>='2030-01-01T00:00:00Z'", sortKey: 'UPDATED_AT' },
    });
    expect(inclusive.data?.products.edges.map((e) => e.node.title)).toEqual(['Renamed first', 'Renamed later']);
    expect(inclusive.data?.products.pageInfo.hasNextPage).toBe(true);
    const rest = await admin.request<ProductsPage>(PRODUCTS_PAGE, {
      variables: {
        first: 2,
        after: inclusive.data?.products.pageInfo.endCursor,
        query: "updated_at:>='2030-01-01T00:00:00Z'",
        sortKey: 'UPDATED_AT',
      },
    });
    expect(rest.data?.products.edges.map((e) => e.node.title)).toEqual(['Renamed last']);
    expect(rest.data?.products.pageInfo.hasNextPage).toBe(false);
  });

  it('serves nested variants, inventory and lookups by node(id:)/nodes(ids:)', async () => {
    const response = await admin.request<{
      products: {
        nodes: {
          id: string;
          variants: {
            nodes: {
              id: string;
              sku: string;
              price: string;
              inventoryQuantity: number;
              inventoryItem: { id: string };
            }[];
          };
        }[];
      };
    }>(
      `query { products(first: 50) { nodes { id variants(first: 5) { nodes { id sku price inventoryQuantity inventoryItem { id } } } } } }`,
    );
    expect(response.errors).toBeUndefined();
    const products = response.data?.products.nodes ?? [];
    expect(products).toHaveLength(50);
    expect(response.extensions?.cost).toMatchObject({ requestedQueryCost: 2 + 50 * (1 + 2 + 5 * 2) });
    for (const product of products) {
      const stored = server.store.products.get(product.id);
      expect(product.variants.nodes.map((v) => v.id)).toEqual(stored?.variantIds);
      for (const variant of product.variants.nodes) {
        expect(variant.price).toMatch(/^\d+\.\d{2}$/);
        expect(variant.inventoryItem.id).toMatch(/^gid:\/\/shopify\/InventoryItem\/\d+$/);
      }
    }
    const variant = products[0]?.variants.nodes[0];
    if (!variant) throw new Error('no variant');
    const lookup = await admin.request<{
      node: { id: string; sku: string; product: { id: string } } | null;
      nodes: ({ id: string } | null)[];
      inventoryItem: {
        inventoryLevels: { nodes: { location: { id: string }; quantities: { name: string; quantity: number }[] }[] };
      };
    }>(
      `query ($id: ID!, $ids: [ID!]!, $item: ID!) {
        node(id: $id) { id ... on ProductVariant { sku product { id } } }
        nodes(ids: $ids) { id }
        inventoryItem(id: $item) { inventoryLevels(first: 5) { nodes { location { id } quantities(names: ["available", "on_hand"]) { name quantity } } } }
      }`,
      {
        variables: {
          id: variant.id,
          ids: [products[0]?.id, 'gid://shopify/Product/1'],
          item: variant.inventoryItem.id,
        },
      },
    );
    expect(lookup.errors).toBeUndefined();
    expect(lookup.data?.node).toEqual({ id: variant.id, sku: variant.sku, product: { id: products[0]?.id } });
    expect(lookup.data?.nodes).toEqual([{ id: products[0]?.id }, null]);
    const levels = lookup.data?.inventoryItem.inventoryLevels.nodes ?? [];
    expect(levels).toHaveLength(2);
    expect(levels.reduce((sum, l) => sum + (l.quantities[0]?.quantity ?? 0), 0)).toBe(variant.inventoryQuantity);
  });

  it('serves customers, orders with line items and fulfillments, collections and locations', async () => {
    const response = await admin.request<{
      customers: { nodes: { id: string; email: string; updatedAt: string }[] };
      orders: {
        nodes: {
          name: string;
          customer: { id: string } | null;
          totalPriceSet: { shopMoney: { amount: string; currencyCode: string } };
          lineItems: { nodes: { quantity: number; variant: { id: string } | null }[] };
          fulfillments: { status: string }[];
        }[];
      };
      collections: { nodes: { title: string; productsCount: { count: number } }[] };
      locations: { nodes: { name: string }[] };
    }>(
      `query {
        customers(first: 50, sortKey: UPDATED_AT) { nodes { id email updatedAt } }
        orders(first: 60) { nodes { name customer { id } totalPriceSet { shopMoney { amount currencyCode } }
          lineItems(first: 3) { nodes { quantity variant { id } } } fulfillments { status } } }
        collections(first: 5) { nodes { title productsCount { count } } }
        locations(first: 5) { nodes { name } }
      }`,
    );
    expect(response.errors).toBeUndefined();
    const customers = response.data?.customers.nodes ?? [];
    expect(customers).toHaveLength(40);
    expect(customers.map((c) => c.updatedAt)).toEqual(customers.map((c) => c.updatedAt).sort());
    const orders = response.data?.orders.nodes ?? [];
    expect(orders).toHaveLength(60);
    for (const order of orders) {
      const total = order.lineItems.nodes.length;
      expect(total).toBeGreaterThan(0);
      expect(order.totalPriceSet.shopMoney.currencyCode).toBe('USD');
      expect(order.name).toMatch(/^#\d{4}$/);
    }
    expect(orders.some((o) => o.fulfillments.length > 0)).toBe(true);
    expect(response.data?.collections.nodes.reduce((sum, c) => sum + c.productsCount.count, 0)).toBe(600);
    expect(response.data?.locations.nodes).toHaveLength(2);
  });
});

describe('authentication', () => {
  it('answers 401 with Shopify body for a wrong token', async () => {
    const response = await fetch(`${server.shopUrl}/admin/api/${server.apiVersion}/graphql.json`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Shopify-Access-Token': 'shpat_wrong' },
      body: JSON.stringify({ query: '{ shop { id } }' }),
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({
      errors: '[API] Invalid API key or access token (unrecognized login or wrong password)',
    });
    const viaLibrary = await adminClient(server, 'shpat_wrong').request('{ shop { id } }');
    expect(viaLibrary.errors?.networkStatusCode).toBe(401);
    await expect(graphqlClient(server, 'shpat_wrong').request('{ shop { id } }')).rejects.toThrow(/401|Unauthorized/i);
  });
});

describe('throttling', () => {
  it('answers THROTTLED with the cost extension while the bucket is short, then succeeds after the restore', async () => {
    const shop = server.addShop('throttle-test.myshopify.com');
    shop.seed({ products: 60 });
    shop.setThrottle({ maximumAvailable: 100, restoreRate: 50, currentlyAvailable: 0 });
    const client = adminClient(shop);
    const query = 'query { products(first: 50) { nodes { id } } }';
    const refused = await client.request(query);
    expect(refused.data).toBeUndefined();
    expect(refused.errors?.graphQLErrors?.[0]).toMatchObject({
      message: 'Throttled',
      extensions: { code: 'THROTTLED' },
    });
    expect(refused.extensions?.cost).toMatchObject({
      requestedQueryCost: 52,
      actualQueryCost: null,
      throttleStatus: { maximumAvailable: 100, restoreRate: 50 },
    });
    const refusedCost = refused.extensions?.cost as { throttleStatus: { currentlyAvailable: number } };
    expect(refusedCost.throttleStatus.currentlyAvailable).toBeLessThan(52);

    let answered: Awaited<ReturnType<typeof client.request<{ products: { nodes: unknown[] } }>>> | undefined;
    await expect
      .poll(
        async () => {
          answered = await client.request<{ products: { nodes: unknown[] } }>(query);
          return answered.errors?.graphQLErrors?.[0]?.extensions?.code ?? 'ok';
        },
        { timeout: 5000, interval: 100 },
      )
      .toBe('ok');
    expect(answered?.data?.products.nodes).toHaveLength(50);
    expect(shop.stats().throttled).toBeGreaterThanOrEqual(1);

    const tooBig = await client.request(
      'query { products(first: 250) { nodes { id variants(first: 10) { nodes { id } } } } }',
    );
    expect(tooBig.errors?.graphQLErrors?.[0]?.extensions?.code).toBe('MAX_COST_EXCEEDED');
  });
});

describe('bulk operations and webhooks', () => {
  let receiver: Server;
  let receiverUrl: string;
  const received: { topic: string; body: string; valid: boolean; domain: string | undefined }[] = [];

  beforeAll(async () => {
    receiver = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', async () => {
        const rawBody = Buffer.concat(chunks).toString('utf8');
        const check = await shopify.webhooks.validate({ rawBody, rawRequest: req, rawResponse: res });
        received.push({
          topic: check.valid ? check.topic : 'invalid',
          body: rawBody,
          valid: check.valid,
          domain: check.valid ? check.domain : undefined,
        });
        res.writeHead(check.valid ? 200 : 401).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks`;
  });

  afterAll(async () => {
    await new Promise((resolve) => receiver?.close(resolve));
  });

  it('runs a bulk query over 1,000 products × 3 variants into JSONL with __parentId lines', async () => {
    const shop = server.addShop('bulk-test.myshopify.com');
    shop.seed({ products: 1000, variantsPerProduct: 3 });
    const client = graphqlClient(shop);

    const subscribed = await client.request<{
      webhookSubscriptionCreate: { webhookSubscription: { id: string; topic: string } | null; userErrors: unknown[] };
    }>(
      `mutation ($topic: WebhookSubscriptionTopic!, $sub: WebhookSubscriptionInput!) {
        webhookSubscriptionCreate(topic: $topic, webhookSubscription: $sub) { webhookSubscription { id topic } userErrors { field message } }
      }`,
      { variables: { topic: 'BULK_OPERATIONS_FINISH', sub: { callbackUrl: receiverUrl, format: 'JSON' } } },
    );
    expect(subscribed.data?.webhookSubscriptionCreate.userErrors).toEqual([]);
    const listed = await client.request<{
      webhookSubscriptions: { nodes: { topic: string; endpoint: { callbackUrl: string } }[] };
    }>(
      '{ webhookSubscriptions(first: 10) { nodes { topic endpoint { ... on WebhookHttpEndpoint { callbackUrl } } } } }',
    );
    expect(listed.data?.webhookSubscriptions.nodes).toEqual([
      { topic: 'BULK_OPERATIONS_FINISH', endpoint: { callbackUrl: receiverUrl } },
    ]);

    const RUN = `mutation ($query: String!) {
      bulkOperationRunQuery(query: $query) { bulkOperation { id status } userErrors { field message code } }
    }`;
    const bulkQuery = `{ products { edges { node { id title updatedAt variants { edges { node { id sku price inventoryItem { id } } } } } } } }`;
    const started = await client.request<{
      bulkOperationRunQuery: { bulkOperation: { id: string; status: string } | null; userErrors: { code: string }[] };
    }>(RUN, { variables: { query: bulkQuery } });
    const operation = started.data?.bulkOperationRunQuery.bulkOperation;
    expect(operation?.status).toBe('CREATED');
    expect(operation?.id).toMatch(/^gid:\/\/shopify\/BulkOperation\/\d+$/);

    const second = await client.request<{
      bulkOperationRunQuery: { bulkOperation: unknown; userErrors: { code: string; message: string }[] };
    }>(RUN, { variables: { query: bulkQuery } });
    expect(second.data?.bulkOperationRunQuery.bulkOperation).toBeNull();
    expect(second.data?.bulkOperationRunQuery.userErrors[0]).toMatchObject({
      code: 'OPERATION_IN_PROGRESS',
      message: expect.stringContaining(operation?.id ?? '?'),
    });

    type Polled = {
      status: string;
      objectCount: string;
      rootObjectCount: string;
      url: string | null;
      errorCode: string | null;
    };
    let finished: Polled | undefined;
    await expect
      .poll(
        async () => {
          const polled = await client.request<{ node: Polled }>(
            'query ($id: ID!) { node(id: $id) { ... on BulkOperation { status objectCount rootObjectCount url errorCode } } }',
            { variables: { id: operation?.id } },
          );
          finished = polled.data?.node;
          return finished?.status;
        },
        { timeout: 10_000, interval: 50 },
      )
      .toBe('COMPLETED');
    expect(finished).toMatchObject({ objectCount: '4000', rootObjectCount: '1000', errorCode: null });
    const current = await client.request<{ currentBulkOperation: { id: string; status: string } }>(
      '{ currentBulkOperation { id status } }',
    );
    expect(current.data?.currentBulkOperation).toEqual({ id: operation?.id, status: 'COMPLETED' });

    // The file is public (a signed storage URL at Shopify): no token.
    const download = await fetch(finished?.url ?? '');
    expect(download.status).toBe(200);
    const lines = (await download.text())
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toHaveLength(4000);
    let parent: Record<string, unknown> | null = null;
    let products = 0;
    for (const line of lines) {
      if (String(line.id).startsWith('gid://shopify/Product/')) {
        expect(line.__parentId).toBeUndefined();
        expect(line).not.toHaveProperty('variants');
        parent = line;
        products += 1;
        continue;
      }
      expect(String(line.id)).toMatch(/^gid:\/\/shopify\/ProductVariant\/\d+$/);
      // Parents come before their children.
      expect(line.__parentId).toBe(parent?.id);
      expect(shop.store.variants.get(String(line.id))?.productId).toBe(line.__parentId);
      expect(Object.keys(line)).toEqual(['id', 'sku', 'price', 'inventoryItem', '__parentId']);
    }
    expect(products).toBe(1000);

    await expect.poll(() => received.filter((r) => r.topic === 'BULK_OPERATIONS_FINISH').length).toBe(1);
    const webhook = received.find((r) => r.topic === 'BULK_OPERATIONS_FINISH');
    expect(webhook?.valid).toBe(true);
    expect(webhook?.domain).toBe('bulk-test.myshopify.com');
    expect(JSON.parse(webhook?.body ?? '{}')).toMatchObject({
      admin_graphql_api_id: operation?.id,
      status: 'completed',
      error_code: null,
      type: 'query',
    });
  });

  it('rejects invalid bulk queries with userErrors', async () => {
    const response = await admin.request<{
      bulkOperationRunQuery: { userErrors: { field: string[]; code: string; message: string }[] };
    }>(
      `mutation { bulkOperationRunQuery(query: "{ products { edges { node { title variants { edges { node { id } } } } } } }") { userErrors { field code message } } }`,
    );
    expect(response.data?.bulkOperationRunQuery.userErrors[0]).toMatchObject({ field: ['query'], code: 'INVALID' });
    expect(response.data?.bulkOperationRunQuery.userErrors[0]?.message).toMatch(/must select the 'id' field/);
  });

  it('signs webhooks so that shopify-api validates them, and refuses a wrong signature', async () => {
    const payload = { id: 1, admin_graphql_api_id: 'gid://shopify/Product/1' };
    const good = shopifyWebhook(server.apiSecretKey, 'products/update', server.shopDomain, payload);
    const bad = shopifyWebhook('not-the-secret', 'products/update', server.shopDomain, payload);
    const before = received.length;
    expect((await fetch(receiverUrl, { method: 'POST', headers: good.headers, body: good.body })).status).toBe(200);
    expect((await fetch(receiverUrl, { method: 'POST', headers: bad.headers, body: bad.body })).status).toBe(401);
    expect(received.slice(before).map((r) => [r.topic, r.valid])).toEqual([
      ['PRODUCTS_UPDATE', true],
      ['invalid', false],
    ]);
  });
});

describe('OAuth', () => {
  it.each([
    ['offline', false],
    ['online', true],
  ])('completes auth.begin → authorize → auth.callback for an %s token, and the token works', async (_, isOnline) => {
    const sessions: Session[] = [];
    const app = createServer(async (req, res) => {
      try {
        if (req.url?.startsWith('/auth/callback')) {
          const { session } = await shopify.auth.callback({ rawRequest: req, rawResponse: res });
          sessions.push(session);
          res.writeHead(200).end('installed');
        } else {
          await shopify.auth.begin({
            shop: server.shopDomain,
            callbackPath: '/auth/callback',
            isOnline,
            rawRequest: req,
            rawResponse: res,
          });
        }
      } catch (error) {
        res.writeHead(500).end(String(error));
      }
    });
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    const appUrl = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
    const browser = { 'User-Agent': 'Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0' };
    try {
      const begin = await fetch(`${appUrl}/auth?shop=${server.shopDomain}`, { redirect: 'manual', headers: browser });
      expect(begin.status).toBe(302);
      const cookies = begin.headers
        .getSetCookie()
        .map((cookie) => cookie.split(';')[0])
        .join('; ');
      const authorizeUrl = begin.headers.get('location') ?? '';
      expect(authorizeUrl).toMatch(new RegExp(`^https://${server.shopDomain}/admin/oauth/authorize\\?`));

      const authorize = await shopifyFetchFor(server)(authorizeUrl, { redirect: 'manual', headers: browser });
      expect(authorize.status).toBe(302);
      const callback = new URL(authorize.headers.get('location') ?? '');
      expect(callback.href.startsWith('https://app.example.com/auth/callback?')).toBe(true);
      expect([...callback.searchParams.keys()].sort()).toEqual(['code', 'hmac', 'host', 'shop', 'state', 'timestamp']);
      expect(await shopify.utils.validateHmac(Object.fromEntries(callback.searchParams))).toBe(true);
      const tampered = { ...Object.fromEntries(callback.searchParams), shop: 'evil.myshopify.com' };
      expect(await shopify.utils.validateHmac(tampered)).toBe(false);

      const done = await fetch(`${appUrl}${callback.pathname}${callback.search}`, {
        headers: { ...browser, Cookie: cookies },
      });
      expect(await done.text()).toBe('installed');
      const session = sessions[0];
      expect(session?.shop).toBe(server.shopDomain);
      expect(session?.scope).toBe('read_products,read_orders');
      expect(session?.isOnline).toBe(isOnline);
      if (isOnline) {
        expect(session?.onlineAccessInfo?.associated_user.email).toBe(`staff@${server.shopDomain}`);
        expect(session?.expires?.getTime()).toBeGreaterThan(Date.now());
      } else expect(session?.expires).toBeUndefined();
      const shop = await graphqlClient(server, session?.accessToken).request<{ shop: { myshopifyDomain: string } }>(
        '{ shop { myshopifyDomain } }',
      );
      expect(shop.data?.shop.myshopifyDomain).toBe(server.shopDomain);

      // The code is single-use, and a wrong secret is refused.
      const reuse = await shopifyFetchFor(server)(`https://${server.shopDomain}/admin/oauth/access_token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({
          client_id: server.apiKey,
          client_secret: server.apiSecretKey,
          code: callback.searchParams.get('code'),
        }),
      });
      expect(reuse.status).toBe(400);
      const wrongSecret = await shopifyFetchFor(server)(`https://${server.shopDomain}/admin/oauth/access_token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ client_id: server.apiKey, client_secret: 'nope', code: 'whatever' }),
      });
      expect(wrongSecret.status).toBe(400);
    } finally {
      await new Promise((resolve) => app.close(resolve));
    }
  });
});

describe('seeding', () => {
  it('seeds 20,000 products × 3 variants in a few seconds, deterministically', async () => {
    const big = server.addShop('seed-test.myshopify.com');
    const started = performance.now();
    const seeded = big.seed({ products: 20_000, variantsPerProduct: 3, end: Date.parse('2026-06-01T00:00:00Z') });
    const elapsed = performance.now() - started;
    expect(elapsed).toBeLessThan(5000);
    expect(big.stats()).toMatchObject({ products: 20_000, variants: 60_000 });
    const again = server.addShop('seed-test-2.myshopify.com');
    const reseeded = again.seed({ products: 20_000, variantsPerProduct: 3, end: Date.parse('2026-06-01T00:00:00Z') });
    const shape = (p: (typeof seeded.products)[number]) => [p.legacyResourceId, p.title, p.updatedAt, p.status];
    expect(reseeded.products.slice(0, 50).map(shape)).toEqual(seeded.products.slice(0, 50).map(shape));
    const page = await adminClient(big).request<ProductsPage>(PRODUCTS_PAGE, {
      variables: { first: 250, sortKey: 'UPDATED_AT', query: "updated_at:>='2026-05-01T00:00:00Z'" },
    });
    expect(page.data?.products.edges.length).toBe(250);
  });
});

describe('errors from shopify-api', () => {
  it('surfaces GraphQL errors as GraphqlQueryError', async () => {
    await expect(graphqlClient(server).request('{ products(first: 300) { nodes { id } } }')).rejects.toBeInstanceOf(
      GraphqlQueryError,
    );
  });
});

describe('rules', () => {
  test.each([
    ['{ shop { id name } }', {}, 1],
    ['{ products(first: 10) { nodes { id title } } }', {}, 12],
    ['{ products(first: 10) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }', {}, 12],
    ['{ products(first: 5) { nodes { id variants(first: 3) { nodes { id inventoryItem { id } } } } } }', {}, 47],
    ['query ($n: Int!) { customers(first: $n) { nodes { id email } } }', { n: 100 }, 102],
    [
      '{ orders(first: 2) { nodes { id customer { id } lineItems(first: 4) { nodes { id } } } } }',
      {},
      2 + 2 * (1 + 1 + 6),
    ],
    ['{ node(id: "gid://shopify/Product/1") { ... on Product { id variants(first: 2) { nodes { id } } } } }', {}, 5],
    ['mutation { bulkOperationRunQuery(query: "{}") { bulkOperation { id } userErrors { message } } }', {}, 10],
  ])('%s costs %#', (query, variables, cost) => {
    expect(shopifyQueryCost(query, variables)).toBe(cost);
  });

  test.each([
    ['PRODUCTS_UPDATE', 'products/update'],
    ['BULK_OPERATIONS_FINISH', 'bulk_operations/finish'],
    ['INVENTORY_LEVELS_UPDATE', 'inventory_levels/update'],
    ['APP_UNINSTALLED', 'app/uninstalled'],
    ['orders/updated', 'orders/updated'],
  ])('topic %s is %s on the wire', (topic, wire) => {
    expect(webhookTopicName(topic)).toBe(wire);
  });
});

describe('search and paging rules', () => {
  let shop: ShopifyShop;
  let client: AdminApiClient;

  beforeAll(() => {
    shop = server.addShop('search-test.myshopify.com');
    const at = (day: number) => `2030-02-${String(day).padStart(2, '0')}T12:00:00Z`;
    shop.addProduct({
      title: 'Red mug',
      vendor: 'Acme',
      status: 'ACTIVE',
      tags: ['sale'],
      createdAt: at(1),
      updatedAt: at(5),
    });
    shop.addProduct({ title: 'Blue mug', vendor: 'Globex', status: 'DRAFT', createdAt: at(2), updatedAt: at(3) });
    shop.addProduct({ title: 'Green lamp', vendor: 'Acme', status: 'ACTIVE', createdAt: at(3), updatedAt: at(4) });
    shop.addProduct({ title: 'Black chair', vendor: 'Hooli', status: 'ARCHIVED', createdAt: at(4), updatedAt: at(6) });
    client = adminClient(shop);
  });

  const titles = async (query: string | null, sortKey = 'ID', reverse = false): Promise<string[]> => {
    const response = await client.request<{ products: { nodes: { title: string }[] } }>(
      'query ($q: String, $s: ProductSortKeys, $r: Boolean) { products(first: 10, query: $q, sortKey: $s, reverse: $r) { nodes { title } } }',
      { variables: { q: query, s: sortKey, r: reverse } },
    );
    if (response.errors) throw new Error(response.errors.message);
    return response.data?.products.nodes.map((n) => n.title) ?? [];
  };

  test.each([
    [null, ['Red mug', 'Blue mug', 'Green lamp', 'Black chair']],
    ["updated_at:>'2030-02-04T12:00:00Z'", ['Red mug', 'Black chair']],
    ["updated_at:>='2030-02-04T12:00:00Z'", ['Red mug', 'Green lamp', 'Black chair']],
    ['updated_at:<2030-02-04T12:00:00Z', ['Blue mug']],
    ["created_at:<='2030-02-02T12:00:00Z'", ['Red mug', 'Blue mug']],
    ['status:active', ['Red mug', 'Green lamp']],
    ['vendor:Acme status:ACTIVE', ['Red mug', 'Green lamp']],
    ['vendor:Acme AND -tag:sale', ['Green lamp']],
    ['mug', ['Red mug', 'Blue mug']],
    ["title:'blue mug'", ['Blue mug']],
  ])('query %s matches %j', async (query, expected) => {
    expect(await titles(query)).toEqual(expected);
  });

  test.each([
    ['UPDATED_AT', false, ['Blue mug', 'Green lamp', 'Red mug', 'Black chair']],
    ['UPDATED_AT', true, ['Black chair', 'Red mug', 'Green lamp', 'Blue mug']],
    ['TITLE', false, ['Black chair', 'Blue mug', 'Green lamp', 'Red mug']],
    ['CREATED_AT', true, ['Black chair', 'Green lamp', 'Blue mug', 'Red mug']],
  ])('sortKey %s reverse %s orders %j', async (sortKey, reverse, expected) => {
    expect(await titles(null, sortKey, reverse)).toEqual(expected);
  });

  it('warns about unknown search fields in extensions.search, as Shopify does', async () => {
    const response = await client.request<{ products: { nodes: unknown[] } }>(
      '{ products(first: 10, query: "colour:red") { nodes { id } } }',
    );
    expect(response.data?.products.nodes).toHaveLength(4);
    expect(response.extensions?.search).toEqual([
      expect.objectContaining({
        path: ['products'],
        query: 'colour:red',
        warnings: [expect.objectContaining({ field: 'colour', message: 'Invalid search field for this query.' })],
      }),
    ]);
  });

  it('pages backwards with last/before and reverse over the same order', async () => {
    type Page = {
      products: {
        edges: { cursor: string; node: { title: string } }[];
        pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean };
      };
    };
    const PAGE =
      'query ($first: Int, $last: Int, $after: String, $before: String, $reverse: Boolean) { products(first: $first, last: $last, after: $after, before: $before, reverse: $reverse, sortKey: UPDATED_AT) { edges { cursor node { title } } pageInfo { hasNextPage hasPreviousPage } } }';
    const forward = await client.request<Page>(PAGE, { variables: { first: 4 } });
    const edges = forward.data?.products.edges ?? [];
    const lastTwo = await client.request<Page>(PAGE, { variables: { last: 2 } });
    expect(lastTwo.data?.products.edges.map((e) => e.node.title)).toEqual(['Red mug', 'Black chair']);
    expect(lastTwo.data?.products.pageInfo.hasPreviousPage).toBe(true);
    const beforeThird = await client.request<Page>(PAGE, { variables: { last: 5, before: edges[2]?.cursor } });
    expect(beforeThird.data?.products.edges.map((e) => e.node.title)).toEqual(['Blue mug', 'Green lamp']);
    expect(beforeThird.data?.products.pageInfo).toMatchObject({ hasPreviousPage: false, hasNextPage: true });
    const reversedAfter = await client.request<Page>(PAGE, {
      variables: { first: 5, after: edges[2]?.cursor, reverse: true },
    });
    expect(reversedAfter.data?.products.edges.map((e) => e.node.title)).toEqual(['Green lamp', 'Blue mug']);
    const both = await client.request(PAGE, { variables: {} });
    expect(both.errors?.graphQLErrors?.[0]?.message).toBe('you must provide one of first or last');
    const badCursor = await client.request(PAGE, { variables: { first: 1, after: 'not-a-cursor' } });
    expect(badCursor.errors?.graphQLErrors?.[0]?.message).toMatch(/cursor/i);
  });

  it('keeps cursors valid across updates (they carry the sort value)', async () => {
    const first = await client.request<{ products: { edges: { cursor: string; node: { id: string } }[] } }>(
      '{ products(first: 2, sortKey: UPDATED_AT) { edges { cursor node { id } } } }',
    );
    const [a, b] = first.data?.products.edges ?? [];
    if (!a || !b) throw new Error('no edges');
    shop.updateProduct(a.node.id, { title: 'Blue mug, renamed', updatedAt: '2030-03-01T00:00:00Z' });
    const next = await client.request<{ products: { nodes: { title: string }[] } }>(
      'query ($after: String) { products(first: 5, after: $after, sortKey: UPDATED_AT) { nodes { title } } }',
      { variables: { after: b.cursor } },
    );
    expect(next.data?.products.nodes.map((n) => n.title)).toEqual(['Red mug', 'Black chair', 'Blue mug, renamed']);
  });
});

describe('shops and HTTP', () => {
  it('keeps shops apart: by path prefix (shopifyFetchFor) and by Host header', async () => {
    const other = server.addShop('other-shop.myshopify.com');
    other.seed({ products: 3 });
    const theirs = await adminClient(other).request<{
      shop: { myshopifyDomain: string };
      productsCount: { count: number };
    }>('{ shop { myshopifyDomain } productsCount { count precision } }');
    expect(theirs.data).toEqual({
      shop: { myshopifyDomain: 'other-shop.myshopify.com' },
      productsCount: { count: 3, precision: 'EXACT' },
    });
    // One shop's token is no key to another.
    const crossed = await adminClient(other, server.accessToken).request('{ shop { id } }');
    expect(crossed.errors?.networkStatusCode).toBe(401);

    const viaHost = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port: server.port,
          method: 'POST',
          path: `/admin/api/${server.apiVersion}/graphql.json`,
          headers: {
            Host: 'other-shop.myshopify.com',
            'Content-Type': 'application/json',
            'X-Shopify-Access-Token': other.accessToken,
          },
        },
        (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => {
            body += chunk.toString();
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify({ query: '{ shop { myshopifyDomain } }' }));
    });
    expect(viaHost.status).toBe(200);
    expect(JSON.parse(viaHost.body).data.shop.myshopifyDomain).toBe('other-shop.myshopify.com');
  });

  const post = (path: string, headers: Record<string, string>, body: string) =>
    fetch(`${server.shopUrl}${path}`, { method: 'POST', headers, body });
  const token = () => server.accessToken;

  test.each([
    [
      'an unknown API version',
      '/admin/api/2025-13/graphql.json',
      'application/json',
      '{"query":"{ shop { id } }"}',
      404,
    ],
    ['a form body', '/admin/api/2026-10/graphql.json', 'application/x-www-form-urlencoded', 'query=x', 415],
    ['a body above 1 MB', '/admin/api/2026-10/graphql.json', 'application/json', 'x'.repeat(1_000_001), 413],
    ['an unknown path', '/admin/api/2026-10/nothing.json', 'application/json', '{}', 404],
  ])('answers %s with %#', async (_, path, contentType, body, status) => {
    const response = await post(path, { 'Content-Type': contentType, 'X-Shopify-Access-Token': token() }, body);
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toMatch(/json/);
  });

  it('answers a GraphQL syntax error with 200 and errors, charging nothing', async () => {
    const before = server.throttleStatus().currentlyAvailable;
    const response = await admin.request('{ products(first: 1) { nodes { id ');
    expect(response.errors?.graphQLErrors?.[0]?.message).toMatch(/Syntax Error/);
    expect(server.throttleStatus().currentlyAvailable).toBeGreaterThanOrEqual(before);
  });
});

describe('changes and their webhooks', () => {
  it('delivers signed products/update and products/delete webhooks; deleted products leave lists', async () => {
    const shop = server.addShop('hooks-test.myshopify.com');
    const deliveries: { topic: string; valid: boolean; body: Record<string, unknown> }[] = [];
    const hookReceiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', async () => {
        const rawBody = Buffer.concat(chunks).toString('utf8');
        const check = await shopify.webhooks.validate({ rawBody, rawRequest: req, rawResponse: res });
        deliveries.push({
          topic: check.valid ? check.topic : 'invalid',
          valid: check.valid,
          body: JSON.parse(rawBody),
        });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => hookReceiver.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(hookReceiver.address() as AddressInfo).port}/hooks`;
      shop.subscribeWebhook('PRODUCTS_UPDATE', url);
      shop.subscribeWebhook('products/delete', url);
      const product = shop.addProduct({ title: 'Temporary' });
      shop.updateProduct(product.id, { title: 'Changed' });
      shop.deleteProduct(product.id);
      await expect.poll(() => deliveries.length).toBe(2);
      // Two deliveries in flight at once may land in either order, as Shopify's do.
      const byTopic = new Map(deliveries.map((d) => [d.topic, d]));
      expect(deliveries.map((d) => [d.topic, d.valid]).sort()).toEqual([
        ['PRODUCTS_DELETE', true],
        ['PRODUCTS_UPDATE', true],
      ]);
      expect(byTopic.get('PRODUCTS_UPDATE')?.body).toMatchObject({
        id: Number(product.legacyResourceId),
        admin_graphql_api_id: product.id,
        title: 'Changed',
      });
      expect(byTopic.get('PRODUCTS_DELETE')?.body).toEqual({ id: Number(product.legacyResourceId) });
      await expect.poll(() => shop.stats().webhooksDelivered).toBe(2);
      expect(shop.stats().products).toBe(0);

      const client = adminClient(shop);
      const after = await client.request<{ node: unknown; products: { nodes: unknown[] } }>(
        'query ($id: ID!) { node(id: $id) { id } products(first: 5) { nodes { id } } }',
        { variables: { id: product.id } },
      );
      expect(after.data).toEqual({ node: null, products: { nodes: [] } });

      // A subscription made through the API with includeFields gets only those fields.
      const created = await client.request<{ webhookSubscriptionCreate: { userErrors: unknown[] } }>(
        `mutation ($sub: WebhookSubscriptionInput!) {
          webhookSubscriptionCreate(topic: ORDERS_UPDATED, webhookSubscription: $sub) { userErrors { field message } }
        }`,
        { variables: { sub: { callbackUrl: url, format: 'JSON', includeFields: ['id', 'updated_at', 'line_items'] } } },
      );
      expect(created.data?.webhookSubscriptionCreate.userErrors).toEqual([]);
      const order = shop.addOrder({ lineItems: [{ title: 'Gift card', quantity: 2, price: '25.00' }] });
      shop.updateOrder(order.id, { displayFinancialStatus: 'REFUNDED' });
      await expect.poll(() => deliveries.length).toBe(3);
      expect(deliveries[2]?.topic).toBe('ORDERS_UPDATED');
      expect(deliveries[2]?.body).toEqual({
        id: Number(order.legacyResourceId),
        updated_at: order.updatedAt,
        line_items: [expect.objectContaining({ title: 'Gift card', quantity: 2, price: '25.00' })],
      });
    } finally {
      await new Promise((resolve) => hookReceiver.close(resolve));
    }
  });
});

describe('bulk operation outcomes', () => {
  const RUN = `mutation ($query: String!) { bulkOperationRunQuery(query: $query) { bulkOperation { id status } userErrors { field message code } } }`;
  type Run = { bulkOperationRunQuery: { bulkOperation: { id: string } | null; userErrors: { message: string }[] } };
  type Polled = {
    node: {
      status: string;
      errorCode: string | null;
      objectCount: string;
      url: string | null;
      partialDataUrl: string | null;
    };
  };

  const finish = async (client: AdminApiClient, query: string): Promise<Polled['node']> => {
    const started = await client.request<Run>(RUN, { variables: { query } });
    const id = started.data?.bulkOperationRunQuery.bulkOperation?.id;
    if (!id) throw new Error(JSON.stringify(started.data?.bulkOperationRunQuery.userErrors ?? started.errors));
    let node: Polled['node'] | undefined;
    await expect
      .poll(
        async () => {
          const polled = await client.request<Polled>(
            'query ($id: ID!) { node(id: $id) { ... on BulkOperation { status errorCode objectCount url partialDataUrl } } }',
            { variables: { id } },
          );
          node = polled.data?.node;
          return node?.status;
        },
        { timeout: 5000, interval: 25 },
      )
      .toMatch(/^(COMPLETED|FAILED|CANCELED)$/);
    if (!node) throw new Error('no operation');
    return node;
  };

  it('writes orders with their line items (two connections) and inline fulfillments', async () => {
    const shop = server.addShop('bulk-orders.myshopify.com');
    shop.seed({ products: 5, customers: 3, orders: 20 });
    const node = await finish(
      adminClient(shop),
      '{ orders { edges { node { id name customer { id } fulfillments { status } lineItems { edges { node { id quantity } } } } } } }',
    );
    expect(node.status).toBe('COMPLETED');
    const lines = (await (await fetch(node.url ?? '')).text())
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    const orders = lines.filter((l) => !l.__parentId);
    const items = lines.filter((l) => l.__parentId);
    expect(orders).toHaveLength(20);
    expect(items).toHaveLength(
      shop.store.orders.sorted('ID', (o) => o.id).records.reduce((n, o) => n + o.lineItems.length, 0),
    );
    expect(Number(node.objectCount)).toBe(lines.length);
    expect(orders[0]).toHaveProperty('fulfillments');
    const ids = new Set(orders.map((o) => o.id));
    expect(items.every((i) => ids.has(i.__parentId))).toBe(true);
  });

  it('reports FAILED with partialDataUrl when the operation fails, and null url for no data', async () => {
    const shop = server.addShop('bulk-fail.myshopify.com');
    const client = adminClient(shop);
    const empty = await finish(client, '{ customers { edges { node { id } } } }');
    expect(empty).toMatchObject({ status: 'COMPLETED', objectCount: '0', url: null });

    shop.seed({ customers: 30 });
    shop.failNextBulkOperation('TIMEOUT', 10);
    const failed = await finish(client, '{ customers { edges { node { id email } } } }');
    expect(failed).toMatchObject({ status: 'FAILED', errorCode: 'TIMEOUT', url: null });
    const partial = (await (await fetch(failed.partialDataUrl ?? '')).text()).trimEnd().split('\n');
    expect(partial).toHaveLength(10);
  });

  it('applies search and sort arguments inside a bulk query', async () => {
    const shop = server.addShop('bulk-search.myshopify.com');
    shop.seed({ products: 30, end: Date.parse('2029-01-01T00:00:00Z') });
    const recent = shop.store.products.sorted('ID', (p) => Number(p.legacyResourceId)).records.slice(0, 3);
    recent.forEach((p, i) => {
      shop.updateProduct(p.id, { updatedAt: `2030-01-0${3 - i}T00:00:00Z` });
    });
    const node = await finish(
      adminClient(shop),
      `{ products(query: "updated_at:>'2029-06-01T00:00:00Z'", sortKey: UPDATED_AT) { edges { node { id updatedAt } } } }`,
    );
    const lines = (await (await fetch(node.url ?? '')).text())
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.id)).toEqual([...recent].reverse().map((p) => p.id));
  });

  it('refuses bulk queries beyond Shopify limits', async () => {
    const response = await admin.request<Run>(RUN, {
      variables: {
        query:
          '{ customers { edges { node { id orders { edges { node { id lineItems { edges { node { id } } } } } } } } } }',
      },
    });
    expect(response.data?.bulkOperationRunQuery.userErrors[0]?.message).toMatch(/nesting depth greater than 2/);
  });
});

describe('tokens and scopes', () => {
  it('issues client-credentials tokens with the app scopes, and refuses fields outside them', async () => {
    const { session } = await shopify.auth.clientCredentials({ shop: server.shopDomain });
    expect(session.accessToken).toMatch(/^shpua_/);
    expect(session.expires?.getTime()).toBeGreaterThan(Date.now() + 86_000_000);
    const shop = server.addShop('scoped-shop.myshopify.com');
    shop.seed({ products: 2, customers: 2 });
    const { session: scoped } = await shopify.auth.clientCredentials({ shop: shop.shopDomain });
    const allowed = await graphqlClient(shop, scoped.accessToken).request<{ products: { nodes: unknown[] } }>(
      '{ products(first: 5) { nodes { id } } }',
    );
    expect(allowed.data?.products.nodes).toHaveLength(2);

    // A token limited to read_products (as an OAuth grant of that scope gives).
    const code = await authorizeCode(shop, 'read_products');
    const token = await exchange(shop, { code });
    const client = adminClient(shop, String(token.access_token));
    const denied = await client.request('{ customers(first: 5) { nodes { id } } }');
    expect(denied.errors?.graphQLErrors?.[0]).toMatchObject({
      message: 'Access denied for customers field. Required access: `read_customers` access scope.',
      extensions: { code: 'ACCESS_DENIED' },
    });
    const node = await client.request('query ($id: ID!) { node(id: $id) { id } }', {
      variables: { id: shop.store.customers.sorted('ID', (c) => c.id).records[0]?.id },
    });
    expect(node.errors?.graphQLErrors?.[0]?.extensions?.code).toBe('ACCESS_DENIED');
    const products = await client.request<{ products: { nodes: unknown[] } }>(
      '{ products(first: 5) { nodes { id } } }',
    );
    expect(products.data?.products.nodes).toHaveLength(2);
  });

  it('renews expiring offline tokens with a single-use refresh token', async () => {
    const code = await authorizeCode(server, 'read_products');
    const first = await exchange(server, { code, expiring: '1' });
    expect(first).toMatchObject({ scope: 'read_products', expires_in: 3600, refresh_token_expires_in: 7_776_000 });
    const { session } = await shopify.auth.refreshToken({
      shop: server.shopDomain,
      refreshToken: String(first.refresh_token),
    });
    expect(session.accessToken).not.toBe(first.access_token);
    expect(session.refreshToken).toMatch(/^shprt_/);
    const works = await graphqlClient(server, session.accessToken).request<{ shop: { id: string } }>('{ shop { id } }');
    expect(works.data?.shop.id).toBe(server.shopId);
    await expect(
      shopify.auth.refreshToken({ shop: server.shopDomain, refreshToken: String(first.refresh_token) }),
    ).rejects.toThrow();
  });

  it('answers 401 for every token after an uninstall, and delivers app/uninstalled', async () => {
    const shop = server.addShop('uninstall-shop.myshopify.com');
    const topics: string[] = [];
    const hookReceiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', async () => {
        const check = await shopify.webhooks.validate({
          rawBody: Buffer.concat(chunks).toString('utf8'),
          rawRequest: req,
          rawResponse: res,
        });
        topics.push(check.valid ? check.topic : 'invalid');
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => hookReceiver.listen(0, '127.0.0.1', resolve));
    try {
      shop.subscribeWebhook('APP_UNINSTALLED', `http://127.0.0.1:${(hookReceiver.address() as AddressInfo).port}/`);
      const client = adminClient(shop);
      expect((await client.request('{ shop { id } }')).errors).toBeUndefined();
      shop.uninstallApp();
      expect((await client.request('{ shop { id } }')).errors?.networkStatusCode).toBe(401);
      await expect.poll(() => topics).toEqual(['APP_UNINSTALLED']);
    } finally {
      await new Promise((resolve) => hookReceiver.close(resolve));
    }
  });

  async function authorizeCode(shop: ShopifyShop, scope: string): Promise<string> {
    const url = new URL(`https://${shop.shopDomain}/admin/oauth/authorize`);
    url.search = new URLSearchParams({
      client_id: server.apiKey,
      scope,
      redirect_uri: 'https://app.example.com/auth/callback',
      state: 'nonce',
    }).toString();
    const response = await shopifyFetchFor(server)(url.href, { redirect: 'manual' });
    const code = new URL(response.headers.get('location') ?? '').searchParams.get('code');
    if (!code) throw new Error(`no code: ${response.status}`);
    return code;
  }

  async function exchange(shop: ShopifyShop, fields: Record<string, string>): Promise<Record<string, unknown>> {
    const response = await shopifyFetchFor(server)(`https://${shop.shopDomain}/admin/oauth/access_token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ client_id: server.apiKey, client_secret: server.apiSecretKey, ...fields }),
    });
    expect(response.status).toBe(200);
    return (await response.json()) as Record<string, unknown>;
  }
});

describe('faults and records', () => {
  it('fails the next requests as asked, and records every request', async () => {
    const before = server.requestCount('/admin/api/');
    server.failNext(1, 503, (path) => path.endsWith('/graphql.json'));
    const failed = await admin.request('{ shop { id } }');
    expect(failed.errors?.networkStatusCode).toBe(503);
    // admin-api-client retries 503s when asked to.
    server.failNext(1, 503);
    const retried = await adminClient(server).request<{ shop: { id: string } }>('{ shop { id } }', { retries: 1 });
    expect(retried.data?.shop.id).toBe(server.shopId);
    server.failNext(1, 0);
    const reset = await admin.request('{ shop { id } }');
    expect(reset.errors?.message).toMatch(/fetch failed|socket|ECONNRESET|other side closed/i);
    expect(server.requestCount('/admin/api/') - before).toBe(4);
    expect(server.requests.slice(-4).map((r) => [r.shop, r.status])).toEqual([
      [server.shopDomain, 503],
      [server.shopDomain, 503],
      [server.shopDomain, 200],
      [server.shopDomain, 0],
    ]);
  });

  it('cancels a running bulk operation and reports the finish', async () => {
    const shop = server.addShop('bulk-cancel.myshopify.com');
    shop.seed({ products: 10 });
    const client = adminClient(shop);
    const started = await client.request<{ bulkOperationRunQuery: { bulkOperation: { id: string } } }>(
      'mutation { bulkOperationRunQuery(query: "{ products { edges { node { id } } } }") { bulkOperation { id } userErrors { message } } }',
    );
    const id = started.data?.bulkOperationRunQuery.bulkOperation.id;
    const canceled = await client.request<{ bulkOperationCancel: { bulkOperation: { status: string } } }>(
      'mutation ($id: ID!) { bulkOperationCancel(id: $id) { bulkOperation { status } userErrors { message } } }',
      { variables: { id } },
    );
    expect(canceled.data?.bulkOperationCancel.bulkOperation.status).toBe('CANCELING');
    await expect
      .poll(async () => {
        const polled = await client.request<{ currentBulkOperation: { status: string; url: string | null } }>(
          '{ currentBulkOperation { status url } }',
        );
        return polled.data?.currentBulkOperation;
      })
      .toEqual({ status: 'CANCELED', url: null });
  });
});
