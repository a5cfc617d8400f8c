/**
 * The Shopify app's OAuth install flow through a real gateway (SHOPIFY_APP_URL + SHOPIFY_SCOPES),
 * against the local Shopify stand-in hosting two shops, with @shopify/shopify-api's own checks:
 * the redirects followed by hand as a browser would (begin → the shop's authorize page → the
 * callback with the stand-in's code, hmac and state, and the state cookie); tampered callbacks
 * refused with nothing stored; both shops backfilled by `plugboard shopify`; app/uninstalled (the
 * stand-in's own signed delivery) stopping one shop's syncs while the other goes on, until it is
 * installed again; the periodic sync between the plugin's start and stop; and the access token
 * in no log line, response or command output.
 */
import { createServer } from 'node:net';
import { ApiVersion } from '@shopify/shopify-api';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { PluginRuntime } from '../gateway/plugin/contract.ts';
import { createMemoryPubSub } from '../gateway/pubsub.ts';
import type { ShopifyConfig } from '../plugins/shopify/config.ts';
import shopifyPlugin from '../plugins/shopify/index.ts';
import { INSTALL_TOPICS, topicEnum } from '../plugins/shopify/install.ts';
import { setupShopify } from '../plugins/shopify/instance.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { startTestGateway, type TestGateway } from './support/gateway.ts';
import { type CliRun, runCli } from './support/processes.ts';
import {
  shopifyFetchFor,
  shopifyQueryHmac,
  startShopifyServer,
  type ShopifyServer,
  type ShopifyShop,
} from './support/shopify-server.ts';

const SECOND_SHOP = 'second-shop.myshopify.com';
const SCOPES = 'read_products,read_customers,read_orders,read_inventory,read_locations';
const BROWSER = {
  'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36',
};

let db: TestDatabase;
let shopify: ShopifyServer;
let first: ShopifyShop;
let second: ShopifyShop;
let gateway: TestGateway;
let appUrl: string;
let env: Record<string, string>;
/** Every log line the gateway wrote, every response body and every command's output. */
const logs: string[] = [];
const seen: string[] = [];

const rows = async <T = Record<string, unknown>>(text: string, params: unknown[] = []) =>
  (await db.pool.query(text, params)).rows as T[];

/** A port free now, for the gateway: SHOPIFY_APP_URL must name it before the gateway starts. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function text(response: Response): Promise<string> {
  const body = await response.text();
  seen.push(body, JSON.stringify([...response.headers]));
  return body;
}

async function cli(args: string[]): Promise<CliRun> {
  const run = await runCli(['shopify', ...args], env);
  seen.push(run.stdout, run.stderr);
  return run;
}

interface Started {
  /** The shop's authorize URL the gateway redirected to. */
  authorize: URL;
  /** The cookies it set, as a browser sends them back. */
  cookie: string;
}

/** GET /auth/shopify?shop=…, as a browser. */
async function begin(shop: string): Promise<Started> {
  const response = await fetch(`${gateway.url}/auth/shopify?shop=${encodeURIComponent(shop)}`, {
    redirect: 'manual',
    headers: BROWSER,
  });
  expect(response.status, await text(response)).toBe(302);
  const authorize = new URL(response.headers.get('location')!);
  const cookie = response.headers
    .getSetCookie()
    .map((line) => line.split(';')[0])
    .join('; ');
  return { authorize, cookie };
}

/** The shop's authorize page (the stand-in, reached as `https://<shop>`): its redirect to the callback. */
async function authorize(started: Started): Promise<URL> {
  const response = await shopifyFetchFor(shopify)(started.authorize.href, { redirect: 'manual' });
  expect(response.status, await response.text()).toBe(302);
  return new URL(response.headers.get('location')!);
}

async function callback(url: URL, cookie: string | null) {
  const response = await fetch(url, {
    redirect: 'manual',
    headers: { ...BROWSER, ...(cookie === null ? {} : { cookie }) },
  });
  const body = await text(response);
  return { status: response.status, body, contentType: response.headers.get('content-type') };
}

/** A full install of a shop. */
async function install(shop: string): Promise<void> {
  const started = await begin(shop);
  const answer = await callback(await authorize(started), started.cookie);
  expect(answer.status, answer.body).toBe(200);
}

const stored = (shop: string) =>
  rows<{ sessions: number; shops: number }>(
    `SELECT (SELECT count(*)::int FROM shopify.sessions WHERE shop = $1) AS sessions,
            (SELECT count(*)::int FROM shopify.shops WHERE domain = $1) AS shops`,
    [shop],
  ).then((found) => found[0]);

const productsByShop = () =>
  rows<{ shop: string; gids: string[] }>(
    'SELECT shop, array_agg(gid ORDER BY gid) AS gids FROM shopify.products WHERE NOT is_deleted GROUP BY shop ORDER BY shop',
  );

const gidsOf = (shop: ShopifyShop) => [...shop.store.products.all()].map((product) => product.id).sort();

beforeAll(async () => {
  db = await createTestDatabase();
  shopify = await startShopifyServer({ bulkDurationMs: 50, scopes: SCOPES });
  first = shopify;
  // Shopify's ids are unique across shops; the second shop's are set apart.
  second = shopify.addShop(SECOND_SHOP, { idOffset: 1_000_000_000 });
  first.seed({ products: 4, variantsPerProduct: 2 });
  second.seed({ products: 3, variantsPerProduct: 2 });
  const port = await freePort();
  appUrl = `http://127.0.0.1:${port}`;
  env = {
    DATABASE_URL: db.url,
    SHOPIFY_API_KEY: shopify.apiKey,
    SHOPIFY_API_SECRET: shopify.apiSecretKey,
    SHOPIFY_APP_URL: appUrl,
    SHOPIFY_SCOPES: SCOPES,
    SHOPIFY_ADMIN_URL: `${shopify.url}/{shop}`,
    SHOPIFY_SYNC_INTERVAL: '0',
    SHOPIFY_BULK_POLL_MS: '25',
  };
  const log = pino({ level: 'debug' }, { write: (line: string) => void logs.push(line) });
  gateway = await startTestGateway({ databaseUrl: db.url, env: { ...env, PORT: String(port) }, log });
}, 60_000);

afterAll(async () => {
  await gateway?.close();
  await shopify?.close();
  await db?.drop();
});

describe('the install flow', () => {
  it('installs a shop: the offline session stored, the shop recorded, every webhook topic registered', async () => {
    const started = await begin(first.shopDomain);
    expect(started.authorize.origin).toBe(`https://${first.shopDomain}`);
    expect(started.authorize.pathname).toBe('/admin/oauth/authorize');
    expect(Object.fromEntries(started.authorize.searchParams)).toMatchObject({
      client_id: shopify.apiKey,
      scope: SCOPES,
      redirect_uri: `${appUrl}/auth/shopify/callback`,
    });
    expect(started.cookie).toMatch(/shopify_app_state=/);

    const back = await authorize(started);
    expect(back.href.startsWith(`${appUrl}/auth/shopify/callback?`)).toBe(true);
    const answer = await callback(back, started.cookie);
    expect(answer.status, answer.body).toBe(200);
    expect(answer.contentType).toMatch(/^text\/html/);
    expect(answer.body).toContain(first.shopDomain);

    const [session] = await rows<{ id: string; access_token: string; scope: string }>(
      'SELECT id, access_token, scope FROM shopify.sessions WHERE shop = $1',
      [first.shopDomain],
    );
    expect(session).toMatchObject({ id: `offline_${first.shopDomain}`, scope: SCOPES });
    // A token of its own, not the shop's.
    expect(session!.access_token).toMatch(/^shp[a-z]{2}_\w{16,}$/);
    expect(session!.access_token).not.toBe(first.accessToken);
    const [shop] = await rows('SELECT installed_at, uninstalled_at, scopes FROM shopify.shops WHERE domain = $1', [
      first.shopDomain,
    ]);
    expect(shop).toMatchObject({ uninstalled_at: null, scopes: SCOPES });
    expect((shop!['installed_at'] as Date).getTime()).toBeGreaterThan(Date.now() - 60_000);

    // Every topic of the manifest but the compliance ones (those are set in the app's configuration).
    expect(INSTALL_TOPICS).toContain('app/uninstalled');
    expect(INSTALL_TOPICS).not.toContain('shop/redact');
    const subscriptions = first.webhookSubscriptions.map((s) => [s.topic, s.callbackUrl]);
    expect(subscriptions.sort()).toEqual(
      INSTALL_TOPICS.map((topic) => [topicEnum(topic), `${appUrl}/webhooks/shopify`]).sort(),
    );

    // The same callback again: Shopify refuses the spent code and nothing changes.
    const replayed = await callback(back, started.cookie);
    expect(replayed.status).toBe(400);
    expect(JSON.parse(replayed.body).errors[0].extensions.code).toBe('SHOPIFY_CODE_REJECTED');
    expect((await rows('SELECT access_token FROM shopify.sessions'))[0]!['access_token']).toBe(session!.access_token);

    // Installing again replaces the token, keeps one session and registers nothing twice.
    await install(first.shopDomain);
    const again = await rows<{ access_token: string }>('SELECT access_token FROM shopify.sessions WHERE shop = $1', [
      first.shopDomain,
    ]);
    expect(again).toHaveLength(1);
    expect(again[0]!.access_token).not.toBe(session!.access_token);
    expect(first.webhookSubscriptions).toHaveLength(INSTALL_TOPICS.length);
  });

  it('refuses a callback with a tampered hmac, a wrong state or no cookie, storing nothing', async () => {
    const started = await begin(second.shopDomain);
    const back = await authorize(started);
    const params = Object.fromEntries(back.searchParams);
    const withParams = (changes: Record<string, string>) => {
      const url = new URL(back.href);
      for (const [key, value] of Object.entries(changes)) url.searchParams.set(key, value);
      return url;
    };
    const flipped = params['hmac']!.replace(/^./, (c) => (c === '0' ? '1' : '0'));
    const wrongState = { ...params, state: 'not-the-state-we-issued' };
    const refusals = [
      await callback(withParams({ hmac: flipped }), started.cookie),
      // Signed as Shopify would, so only the state is wrong.
      await callback(
        withParams({ state: wrongState.state, hmac: shopifyQueryHmac(shopify.apiSecretKey, wrongState) }),
        started.cookie,
      ),
      await callback(back, null),
      await callback(back, started.cookie.replace(/shopify_app_state\.sig=[^;]+/, 'shopify_app_state.sig=forged')),
    ];
    expect(refusals.map((r) => [r.status, JSON.parse(r.body).errors[0].extensions.code])).toEqual([
      [403, 'SHOPIFY_OAUTH_INVALID'],
      [403, 'SHOPIFY_OAUTH_INVALID'],
      [403, 'SHOPIFY_OAUTH_INVALID'],
      [403, 'SHOPIFY_OAUTH_INVALID'],
    ]);
    expect(refusals[2]!.body).toMatch(/cookie/i);
    expect(await stored(second.shopDomain)).toEqual({ sessions: 0, shops: 0 });
    expect(second.webhookSubscriptions).toHaveLength(0);

    // None of them spent the code: the genuine callback completes.
    const answer = await callback(back, started.cookie);
    expect(answer.status, answer.body).toBe(200);
    expect(await stored(second.shopDomain)).toEqual({ sessions: 1, shops: 1 });
    expect(second.webhookSubscriptions).toHaveLength(INSTALL_TOPICS.length);
  });

  it.each([
    ['not a Shopify domain', 'evil.example.com'],
    ['a Shopify domain other than myshopify.com', 'shop.myshopify.io'],
    ['a longer host', 'plugboard-test.myshopify.com.evil.com'],
    ['upper case', 'Plugboard-Test.myshopify.com'],
    ['empty', ''],
    ['too long', `${'a'.repeat(300)}.myshopify.com`],
  ])('answers 400 to a shop parameter that is %s', async (_, shop) => {
    const response = await fetch(`${gateway.url}/auth/shopify?shop=${encodeURIComponent(shop)}`, {
      redirect: 'manual',
      headers: BROWSER,
    });
    expect(response.status).toBe(400);
    expect(response.headers.getSetCookie()).toEqual([]);
    const body = JSON.parse(await text(response));
    expect(body.errors[0]).toMatchObject({ extensions: { code: 'SHOPIFY_SHOP_INVALID' } });
    expect(body.errors[0].message).toMatch(/myshopify\.com/);
  });

  it('answers 400 without a shop parameter, or with two', async () => {
    for (const query of ['', '?shop=a.myshopify.com&shop=b.myshopify.com']) {
      const response = await fetch(`${gateway.url}/auth/shopify${query}`, { redirect: 'manual', headers: BROWSER });
      expect(response.status).toBe(400);
      expect(JSON.parse(await text(response)).errors[0].extensions.code).toBe('SHOPIFY_SHOP_INVALID');
    }
  });
});

describe('syncing the installed shops', () => {
  it('backfills the products of both shops, each row with its shop', async () => {
    const run = await cli(['backfill', '--resource', 'products']);
    expect(run.code, run.stderr).toBe(0);
    expect(await productsByShop()).toEqual([
      { shop: first.shopDomain, gids: gidsOf(first) },
      { shop: SECOND_SHOP, gids: gidsOf(second) },
    ]);
  });

  it('stops syncing a shop that sent app/uninstalled while the other goes on, until it is installed again', async () => {
    second.uninstallApp();
    // The stand-in delivers app/uninstalled, signed, to the subscription the install made.
    await expect
      .poll(async () => (await rows('SELECT uninstalled_at FROM shopify.shops WHERE domain = $1', [SECOND_SHOP]))[0], {
        timeout: 10_000,
      })
      .toEqual({ uninstalled_at: expect.any(Date) });
    expect(second.webhookDeliveries.map((d) => [d.topic, d.status])).toEqual([['app/uninstalled', 200]]);
    expect(second.webhookSubscriptions).toEqual([]);

    first.addProduct({ title: 'After the uninstall' });
    const skipped = second.addProduct({ title: 'Not to be synced' });
    const requestsBefore = second.stats().graphqlRequests;
    // The second shop's tokens were revoked: a sync asking it anything would fail.
    const run = await cli(['sync', '--resource', 'products']);
    expect(run.code, run.stderr).toBe(0);
    expect(second.stats().graphqlRequests).toBe(requestsBefore);
    expect(await productsByShop()).toEqual([
      { shop: first.shopDomain, gids: gidsOf(first) },
      { shop: SECOND_SHOP, gids: gidsOf(second).filter((id) => id !== skipped.id) },
    ]);

    // Installed again: uninstalled_at is cleared and its syncs resume.
    await install(SECOND_SHOP);
    expect(await rows('SELECT uninstalled_at FROM shopify.shops WHERE domain = $1', [SECOND_SHOP])).toEqual([
      { uninstalled_at: null },
    ]);
    const resumed = await cli(['sync', '--resource', 'products']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(await productsByShop()).toEqual([
      { shop: first.shopDomain, gids: gidsOf(first) },
      { shop: SECOND_SHOP, gids: gidsOf(second) },
    ]);
  });

  it('syncs the active shops every SHOPIFY_SYNC_INTERVAL minutes between start and stop', async () => {
    const config: ShopifyConfig = {
      apiKey: shopify.apiKey,
      apiSecret: shopify.apiSecretKey,
      apiVersion: ApiVersion.October26,
      mode: { appUrl: new URL(appUrl), scopes: SCOPES.split(',') },
      syncInterval: 2,
      webhookPath: '/webhooks/shopify',
      webhookMaxAttempts: 5,
      retention: { eventsDays: 30, failedEventsDays: 90, syncRunsDays: 90 },
      readRoles: [],
      adminUrl: `${shopify.url}/{shop}`,
      bulkPollMs: 25,
    };
    const runtime = {
      name: 'shopify',
      config,
      db: db.pool,
      pubsub: createMemoryPubSub(),
      log: pino({ level: 'silent' }),
    } as unknown as PluginRuntime<ShopifyConfig>;
    const runs = () =>
      rows<{ resources: string[]; status: string }>(
        'SELECT resources, status FROM shopify.sync_runs ORDER BY started_at',
      );
    const before = (await runs()).length;
    const requests = [first.stats().graphqlRequests, second.stats().graphqlRequests];
    // Only the interval timers are faked: the sync's own I/O runs for real.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const instance = setupShopify(runtime);
      await shopifyPlugin.start!(runtime, instance);
      expect(instance.timer).not.toBeNull();
      vi.advanceTimersByTime(2 * 60_000);
      // One run of every resource (the resources never synced yet make it a backfill) over both shops.
      await expect
        .poll(async () => (await runs()).slice(before), { timeout: 30_000 })
        .toEqual([{ resources: instance.syncer.resources, status: 'completed' }]);
      expect(first.stats().graphqlRequests).toBeGreaterThan(requests[0]!);
      expect(second.stats().graphqlRequests).toBeGreaterThan(requests[1]!);
      await shopifyPlugin.stop!(runtime, instance);
      expect(instance.timer).toBeNull();
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('never shows an access token in a log line, a response or a command output', async () => {
    const tokens = (await rows<{ access_token: string }>('SELECT access_token FROM shopify.sessions')).map(
      (row) => row.access_token,
    );
    expect(tokens).toHaveLength(2);
    expect(logs.join('\n')).toMatch(/shopify app installed/);
    expect(seen.length).toBeGreaterThan(10);
    for (const token of tokens) {
      expect(logs.join('\n')).not.toContain(token);
      expect(seen.join('\n')).not.toContain(token);
    }
  });
});
