import { definePlugin, syncedRetention, verifySyncSchema } from '../../gateway/sdk.ts';
import { addShopifyCommands } from './cli.ts';
import { shopifyConfig, type ShopifyConfig } from './config.ts';
import { INSTALL_ERRORS, installRoutes } from './install.ts';
import { setupShopify, type ShopifyInstance } from './instance.ts';
import manifest from './plugin.json' with { type: 'json' };
import { SHOPIFY_TABLES } from './resources.ts';
import { addShopifySchema } from './schema.ts';
import { shopifySql } from './sql.ts';
import { SCOPE_ERRORS } from './views.ts';
import { shopifyReceiver } from './webhooks.ts';

export default definePlugin<ShopifyConfig, ShopifyInstance>({
  manifest,
  migrations: new URL('./migrations/', import.meta.url),
  config: shopifyConfig,
  setup: setupShopify,
  errors: { ...INSTALL_ERRORS, ...SCOPE_ERRORS },
  hasura: {
    actions: { syncShopify: { kind: 'asynchronous', roles: [] } },
    tables: SHOPIFY_TABLES,
  },
  webhooks: (runtime, instance) => shopifyReceiver(runtime, instance),
  retention: (runtime) => syncedRetention('shopify', runtime.config.retention),
  routes: (runtime, instance) => installRoutes(runtime, instance),
  schema: (builder, runtime, instance) => addShopifySchema(builder, runtime, instance),
  commands: addShopifyCommands,
  async start(runtime, instance) {
    // Refuses to start, naming what is missing, when the migrations and the descriptors differ.
    await verifySyncSchema(runtime.db, instance.tables, instance.views);
    const { mode, syncInterval } = runtime.config;
    if ('shop' in mode) await runtime.db.query(shopifySql('shop-configured'), [mode.shop]);
    if (syncInterval === 0) return;
    // The periodic sync of every active shop (app/uninstalled takes a shop out); a failure is
    // logged and the next interval tries again.
    instance.timer = setInterval(() => {
      instance.syncer
        .run()
        .catch((error: unknown) => runtime.log.error({ err: error }, 'periodic shopify sync failed'));
    }, syncInterval * 60_000);
    instance.timer.unref();
  },
  stop(_runtime, instance) {
    if (instance.timer) clearInterval(instance.timer);
    instance.timer = null;
  },
});
