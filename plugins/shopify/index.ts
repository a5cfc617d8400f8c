import { definePlugin, verifySyncSchema } from '../../gateway/sdk.ts';
import { addShopifyCommands } from './cli.ts';
import { shopifyConfig, type ShopifyConfig } from './config.ts';
import { setupShopify, type ShopifyInstance } from './instance.ts';
import manifest from './plugin.json' with { type: 'json' };
import { SHOPIFY_TABLES } from './resources.ts';
import { addShopifySchema } from './schema.ts';
import { shopifySql } from './sql.ts';
import { SHOPIFY_ERRORS } from './views.ts';
import { shopifyReceiver } from './webhooks.ts';

export default definePlugin<ShopifyConfig, ShopifyInstance>({
  manifest,
  migrations: new URL('./migrations/', import.meta.url),
  config: shopifyConfig,
  setup: setupShopify,
  errors: SHOPIFY_ERRORS,
  hasura: {
    actions: { syncShopify: { kind: 'asynchronous', roles: [] } },
    tables: SHOPIFY_TABLES,
  },
  webhooks: (runtime, instance) => shopifyReceiver(runtime, instance),
  schema: (builder, runtime, instance) => addShopifySchema(builder, runtime, instance),
  commands: addShopifyCommands,
  async start(runtime, instance) {
    // Refuses to start, naming what is missing, when the migrations and the descriptors differ.
    await verifySyncSchema(runtime.db, instance.tables, instance.views);
    const { mode } = runtime.config;
    if ('shop' in mode) await runtime.db.query(shopifySql('shop-configured'), [mode.shop]);
  },
  stop(_runtime, instance) {
    if (instance.timer) clearInterval(instance.timer);
    instance.timer = null;
  },
});
