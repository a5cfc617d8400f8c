import '@shopify/shopify-api/adapters/node';
import { LogSeverity, type Shopify, shopifyApi } from '@shopify/shopify-api';
import { setAbstractFetchFunc } from '@shopify/shopify-api/runtime';
import {
  type Checker,
  createChecker,
  PlanCache,
  createSyncer,
  createSyncStore,
  type PluginRuntime,
  type SyncedObject,
  type Syncer,
  type SyncStore,
  type SyncTables,
  type SyncViews,
} from '../../gateway/sdk.ts';
import { type CostUsage, createShopifyAdmin, type ShopifyAdmin } from './client.ts';
import type { ShopifyConfig } from './config.ts';
import { shopifyListing } from './listing.ts';
import { shopifySyncTables } from './resources.ts';
import { shopifySql } from './sql.ts';
import { shopifyViews } from './views.ts';

/** The Shopify plugin's instance: the Shopify library configured for the app, and the sync core's parts. */
export interface ShopifyInstance {
  /** @shopify/shopify-api for this app (webhook validation; the Admin API clients). */
  api: Shopify;
  tables: SyncTables;
  store: SyncStore;
  syncer: Syncer;
  checker: Checker;
  views: SyncViews;
  /** Query plans, statement texts and prepared-statement names of the GraphQL views. */
  plans: PlanCache;
  /** A shop's Admin API client (SHOPIFY_ACCESS_TOKEN, or the token its OAuth install stored). */
  admin(shop: string): Promise<ShopifyAdmin>;
  /** Drops a shop's cached client (an install stored a new token). */
  forgetAdmin(shop: string): void;
  /** What this process spent of each shop's cost bucket. */
  usage(): Map<string, CostUsage>;
  /** Whether a shop's data may be synced: the shop is known and has not uninstalled the app. */
  shopActive(shop: string): Promise<boolean>;
  /** The shops whose data is synced (app/uninstalled takes a shop out), sorted. */
  activeShops(): Promise<string[]>;
  /** The periodic sync (set by start when SHOPIFY_SYNC_INTERVAL is above 0, cleared by stop). */
  timer: NodeJS.Timeout | null;
}

/** SHOPIFY_ADMIN_URL's default: Shopify itself. */
export const DEFAULT_ADMIN_URL = 'https://{shop}';

/**
 * A fetch sending `https://<shop>.myshopify.com/<path>` to SHOPIFY_ADMIN_URL (`{shop}` replaced),
 * other URLs unchanged.
 */
export function adminUrlFetch(adminUrl: string): typeof fetch {
  return (input, init) => {
    const href = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const url = new URL(href);
    if (url.protocol !== 'https:' || !url.hostname.endsWith('.myshopify.com')) return fetch(input, init);
    const target = `${adminUrl.replaceAll('{shop}', url.hostname).replace(/\/$/, '')}${url.pathname}${url.search}`;
    return input instanceof Request ? fetch(new Request(target, input), init) : fetch(target, init);
  };
}

export function setupShopify(runtime: PluginRuntime<ShopifyConfig>): ShopifyInstance {
  const { config, db, log } = runtime;
  const { mode } = config;
  if (config.adminUrl !== DEFAULT_ADMIN_URL)
    // @shopify/shopify-api builds `https://<shop>/…` itself (the OAuth token exchange in
    // auth.callback among others) and has no per-instance option for where a shop answers: its
    // runtime's fetch is the one hook, and it is process-wide. So it is replaced only when
    // SHOPIFY_ADMIN_URL points elsewhere (a local stand-in), and then only rewrites shop URLs;
    // with the default, the node adapter's global fetch stays.
    setAbstractFetchFunc(adminUrlFetch(config.adminUrl));
  const api = shopifyApi({
    apiKey: config.apiKey,
    apiSecretKey: config.apiSecret,
    apiVersion: config.apiVersion,
    // The library builds OAuth redirect URLs from the host name; with one shop and its token no
    // OAuth happens, and the shop's domain stands in.
    hostName: 'appUrl' in mode ? mode.appUrl.host : mode.shop,
    hostScheme: 'appUrl' in mode && mode.appUrl.protocol === 'http:' ? 'http' : 'https',
    isEmbeddedApp: false,
    ...('appUrl' in mode
      ? { scopes: mode.scopes }
      : { isCustomStoreApp: true as const, adminApiAccessToken: mode.accessToken }),
    logger: {
      level: LogSeverity.Warning,
      log: async (severity, message) => {
        if (severity === LogSeverity.Error) log.error({ source: 'shopify-api' }, message);
        else log.warn({ source: 'shopify-api' }, message);
      },
    },
  });
  const admins = new Map<string, Promise<ShopifyAdmin>>();
  const opened = new Map<string, ShopifyAdmin>();
  const admin = (shop: string): Promise<ShopifyAdmin> => {
    let made = admins.get(shop);
    if (!made) {
      made = (async () => {
        let accessToken = 'shop' in mode && mode.shop === shop ? mode.accessToken : undefined;
        if (!accessToken) {
          const { rows } = await db.query<{ access_token: string }>(shopifySql('session-token'), [shop]);
          accessToken = rows[0]?.access_token;
        }
        if (!accessToken)
          throw new Error(
            `No access token for ${shop}: install the app on it (or set SHOPIFY_SHOP and SHOPIFY_ACCESS_TOKEN)`,
          );
        const client = createShopifyAdmin({
          shop,
          accessToken,
          apiVersion: config.apiVersion,
          adminUrl: config.adminUrl,
        });
        opened.set(shop, client);
        return client;
      })();
      made.catch(() => admins.delete(shop));
      admins.set(shop, made);
    }
    return made;
  };
  const activeShops = async () => {
    // The configured shop is recorded at start; a command run before any start records it too.
    if ('shop' in mode) await db.query(shopifySql('shop-configured'), [mode.shop]);
    const { rows } = await db.query<{ domain: string }>(shopifySql('shops-active'));
    return rows.map((row) => row.domain);
  };
  const installedAfter = async (since: Date) => {
    const { rows } = await db.query<{ domain: string }>(shopifySql('shops-installed-after'), [since]);
    return new Set(rows.map((row) => row.domain));
  };
  const tables = shopifySyncTables(
    shopifyListing({ admin, shops: activeShops, installedAfter, bulkPollMs: config.bulkPollMs }),
  );
  const store = createSyncStore(tables);
  const views = shopifyViews(() => runtime.config.readRoles);
  return {
    api,
    tables,
    store,
    syncer: createSyncer({ plugin: runtime.name, db, pubsub: runtime.pubsub, tables, store, versionOf }),
    checker: createChecker({ db, tables, store, versionOf }),
    views,
    plans: new PlanCache(views),
    admin,
    forgetAdmin(shop) {
      admins.delete(shop);
      opened.delete(shop);
    },
    usage: () => new Map([...opened].map(([shop, client]) => [shop, { ...client.usage }])),
    async shopActive(shop) {
      const { rows } = await db.query<{ active: boolean }>(shopifySql('shop-active'), [shop]);
      return rows[0]!.active;
    },
    activeShops,
    timer: null,
  };
}

/** Shopify's time of an object's state (either shape); objects without one are as of when they were listed. */
export function versionOf(object: SyncedObject, fetchedAt: number): number {
  const updated = Date.parse(String(object['updatedAt'] ?? object['updated_at']));
  return Number.isFinite(updated) ? updated / 1000 : fetchedAt;
}
