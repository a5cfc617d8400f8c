/**
 * The Shopify GraphQL API, from the sync core: the synced tables (views.ts: shopifyProducts with
 * their variants and collections, shopifyOrders with line items, fulfillments and customer,
 * shopifyCustomers, shopifyInventory, lookups by id…), each reader held to the shops their
 * session names; sync control for admins (syncShopify, shopifySyncRun, shopifySyncStatus) and
 * the shopifyEvents subscription, whose events also carry their shop and topic.
 */
import {
  addSyncSchema,
  type Builder,
  type Checker,
  type PlanCache,
  type PluginRuntime,
  type Syncer,
} from '../../gateway/sdk.ts';
import type { ShopifyConfig } from './config.ts';
import { SHOPIFY_TABLES } from './resources.ts';
import { shopifyViews } from './views.ts';

/** The webhook log's envelope (webhooks.ts). */
interface ShopifyEnvelope {
  shop?: string;
  topic?: string;
}

export function addShopifySchema(
  builder: Builder,
  runtime: PluginRuntime<ShopifyConfig>,
  instance: () => { syncer: Syncer; checker: Checker; plans: PlanCache; activeShops(): Promise<string[]> },
): void {
  addSyncSchema(builder, {
    views: shopifyViews(() => runtime.config.readRoles),
    instance,
    prefix: 'Shopify',
    provider: 'Shopify',
    typeExample: 'orders/*',
    resources: SHOPIFY_TABLES,
    runtime,
    scope: {
      argument: 'shop',
      description:
        "Only this shop (name.myshopify.com): a backfill of it beside the resources' own syncs, which it leaves as they are.",
      check: async (shop) =>
        (await instance().activeShops()).includes(shop)
          ? null
          : `${shop} is not a shop the app is installed on (see shopifySyncStatus, or plugboard shopify shops)`,
    },
    eventFields: (t) => ({
      shop: t.string({
        nullable: true,
        description: 'The shop it came from (name.myshopify.com).',
        resolve: (message) => (message.payload as ShopifyEnvelope).shop ?? null,
      }),
      topic: t.string({
        nullable: true,
        description: 'The webhook topic (`orders/create`…).',
        resolve: (message) => (message.payload as ShopifyEnvelope).topic ?? null,
      }),
    }),
  });
}
