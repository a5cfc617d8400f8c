/** `plugboard shopify …`: the sync core's commands, `shops` and `test`. */
import type { Command } from 'commander';
import { addSyncCommands, type OpenedPlugin, table } from '../../gateway/sdk.ts';
import type { ShopifyConfig } from './config.ts';
import type { ShopifyInstance } from './instance.ts';
import { SHOPIFY_TABLES } from './resources.ts';
import { shopifySql } from './sql.ts';

type Open = () => Promise<OpenedPlugin<ShopifyConfig, ShopifyInstance>>;

/** What a run spent of each shop's query cost bucket, on stderr (stdout keeps the results). */
function reportUsage(instance: ShopifyInstance): void {
  for (const [shop, usage] of instance.usage()) {
    if (usage.requests === 0) continue;
    process.stderr.write(
      `${shop}: ${usage.requests} requests, query cost ${usage.cost}, throttled ${usage.throttled} times; ${usage.available ?? '?'} of ${usage.maximum ?? '?'} available (restores ${usage.restoreRate ?? '?'}/s)\n`,
    );
  }
}

export function addShopifyCommands(command: Command, open: Open): void {
  let opened: ShopifyInstance | undefined;
  addSyncCommands(command, {
    provider: 'Shopify',
    resources: SHOPIFY_TABLES,
    async open() {
      const { runtime, instance } = await open();
      opened = instance;
      return { syncer: instance.syncer, checker: instance.checker, log: runtime.webhooks.get(runtime.name) };
    },
  });
  command.hook('postAction', () => {
    if (opened) reportUsage(opened);
  });

  command
    .command('shops')
    .description('The shops the app is installed on, whether each is synced, and what is stored of it')
    .action(async () => {
      const { runtime, instance } = await open();
      await instance.activeShops();
      const { rows } = await runtime.db.query(shopifySql('synced-per-shop'));
      console.log(table(rows));
      console.log(`${rows.length} shops`);
    });

  command
    .command('test')
    .description("Check each active shop's access token and API version, and its query cost bucket")
    .action(async () => {
      const { runtime, instance } = await open();
      const shops = await instance.activeShops();
      if (shops.length === 0)
        throw new Error('No shop to sync: set SHOPIFY_SHOP and SHOPIFY_ACCESS_TOKEN, or install the app on one');
      for (const shop of shops) {
        const admin = await instance.admin(shop);
        const { shop: found } = await admin.request<{ shop: { name: string; myshopifyDomain: string } }>(
          '{ shop { name myshopifyDomain } }',
        );
        console.log(`${shop}  ${found.name} (${found.myshopifyDomain}), API ${runtime.config.apiVersion}`);
      }
    });
}
