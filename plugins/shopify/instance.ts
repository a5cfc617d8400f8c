import '@shopify/shopify-api/adapters/node';
import { LogSeverity, type Shopify, shopifyApi } from '@shopify/shopify-api';
import { createSyncStore, type PluginRuntime, type SyncStore, type SyncTables } from '../../gateway/sdk.ts';
import type { ShopifyConfig } from './config.ts';
import { shopifySyncTables } from './resources.ts';
import { shopifySql } from './sql.ts';

/** The Shopify plugin's instance: the Shopify library configured for the app, and the sync core's parts. */
export interface ShopifyInstance {
  /** @shopify/shopify-api for this app (webhook validation; the Admin API clients). */
  api: Shopify;
  tables: SyncTables;
  store: SyncStore;
  /** Whether a shop's data may be synced: the shop is known and has not uninstalled the app. */
  shopActive(shop: string): Promise<boolean>;
  /** The shops whose data is synced (app/uninstalled takes a shop out), sorted. */
  activeShops(): Promise<string[]>;
  /** The periodic sync (set by start when SHOPIFY_SYNC_INTERVAL is above 0, cleared by stop). */
  timer: NodeJS.Timeout | null;
}

export function setupShopify(runtime: PluginRuntime<ShopifyConfig>): ShopifyInstance {
  const { config, db, log } = runtime;
  const { mode } = config;
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
  const tables = shopifySyncTables();
  return {
    api,
    tables,
    store: createSyncStore(tables),
    async shopActive(shop) {
      const { rows } = await db.query<{ active: boolean }>(shopifySql('shop-active'), [shop]);
      return rows[0]!.active;
    },
    async activeShops() {
      const { rows } = await db.query<{ domain: string }>(shopifySql('shops-active'));
      return rows.map((row) => row.domain);
    },
    timer: null,
  };
}
