import { ApiVersion } from '@shopify/shopify-api';
import { ConfigError, type ConfigValues, readSyncedRetention, type SyncedRetention } from '../../gateway/sdk.ts';

export interface ShopifyConfig {
  apiKey: string;
  /** The app's API secret: the HMAC key of webhook bodies. */
  apiSecret: string;
  apiVersion: ApiVersion;
  /**
   * One shop with an offline token, or the OAuth install flow (the manifest requires one whole
   * group; with both set, the one shop is synced).
   */
  mode: { shop: string; accessToken: string } | { appUrl: URL; scopes: string[] };
  /** Minutes; 0 = no periodic sync. */
  syncInterval: number;
  webhookPath: string;
  webhookMaxAttempts: number;
  retention: SyncedRetention;
  /** Roles besides admin that may query the synced tables. */
  readRoles: string[];
  /** A shop's Admin API base, `{shop}` standing for its domain. */
  adminUrl: string;
  bulkPollMs: number;
}

const API_VERSIONS: readonly string[] = Object.values(ApiVersion);

export function shopifyConfig(values: ConfigValues): ShopifyConfig {
  // The manifest lists the versions too; this holds them against the library's own list.
  const apiVersion = values.string('SHOPIFY_API_VERSION');
  if (!API_VERSIONS.includes(apiVersion))
    throw new ConfigError([
      {
        variable: 'SHOPIFY_API_VERSION',
        owner: 'plugin shopify',
        message: `${JSON.stringify(apiVersion)} is invalid: expected one of ${API_VERSIONS.join(', ')}`,
      },
    ]);
  const shop = values.optionalString('SHOPIFY_SHOP');
  return {
    apiKey: values.string('SHOPIFY_API_KEY'),
    apiSecret: values.string('SHOPIFY_API_SECRET'),
    apiVersion: apiVersion as ApiVersion,
    mode: shop
      ? { shop, accessToken: values.string('SHOPIFY_ACCESS_TOKEN') }
      : {
          appUrl: new URL(values.string('SHOPIFY_APP_URL')),
          scopes: values
            .string('SHOPIFY_SCOPES')
            .split(',')
            .map((scope) => scope.trim())
            .filter(Boolean),
        },
    syncInterval: values.number('SHOPIFY_SYNC_INTERVAL'),
    webhookPath: values.string('SHOPIFY_WEBHOOK_PATH'),
    webhookMaxAttempts: values.number('SHOPIFY_WEBHOOK_MAX_ATTEMPTS'),
    retention: readSyncedRetention(values, 'SHOPIFY'),
    readRoles: (values.optionalString('SHOPIFY_READ_ROLES') ?? '').split(',').filter(Boolean),
    adminUrl: values.string('SHOPIFY_ADMIN_URL'),
    bulkPollMs: values.number('SHOPIFY_BULK_POLL_MS'),
  };
}
