/**
 * How the Shopify resources are listed for the sync core. A full backfill exports each resource of each shop
 * with one bulk operation (plugins/shopify/bulk.ts): no page-size ceiling. An incremental sync
 * lists what changed since the last one with an `updated_at:>'…'` search, newest last, by cursor;
 * children come inside their parent (variants in products, line items and fulfillments in
 * orders). Rows keep each object as the GraphQL API returns it, with `shop` added (the webhook
 * path stores the REST shape; the migration's columns read both).
 */
import type { Page, SyncedObject, SyncResource } from '../../gateway/sdk.ts';
import { bulkListing, inScope } from './bulk.ts';
import { BULK_EXPORTS, type BulkExport, bulkStates, VARIANT_FIELDS } from './bulk-resources.ts';
import type { ShopifyAdmin } from './client.ts';
import { SHOPIFY_TABLES, type ShopifyTable } from './resources.ts';

/**
 * Objects per page of an incremental list, and per nested list: Shopify refuses a query whose
 * cost (page size × each node's cost) is over 1,000.
 */
const PAGE = 10;
const NESTED = 20;

interface Connection<T> {
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  nodes: T[];
}

export interface ShopifyListingOptions {
  /** The Admin client of a shop. */
  admin(shop: string): Promise<ShopifyAdmin>;
  /** The shops whose data is synced (installed, not uninstalled), in a stable order. */
  shops(): Promise<string[]>;
  /**
   * The active shops installed after `since` (a first install, or one after app/uninstalled): an
   * incremental sync lists them in full, since what changed before is older than `since`.
   */
  installedAfter(since: Date): Promise<ReadonlySet<string>>;
  /** How often a bulk operation is polled. */
  bulkPollMs: number;
}

interface Incremental {
  /** The connection field and the fields of each node (nested lists bounded). */
  connection: string;
  fields: string;
  /** Lists that cannot be sorted (inventory items) come by id; the search still selects what changed. */
  sortKey?: 'UPDATED_AT' | null;
}

const INCREMENTAL: Partial<Record<ShopifyTable, Incremental>> = {
  products: {
    connection: 'products',
    fields: `id legacyResourceId title handle status vendor productType tags createdAt updatedAt
      variants(first: ${NESTED}) { pageInfo { hasNextPage endCursor } nodes { ${VARIANT_FIELDS} } }`,
  },
  customers: {
    connection: 'customers',
    fields: 'id legacyResourceId firstName lastName email phone state tags createdAt updatedAt',
  },
  orders: {
    connection: 'orders',
    fields: `id legacyResourceId name email createdAt updatedAt cancelledAt displayFinancialStatus
      displayFulfillmentStatus currencyCode totalPriceSet { shopMoney { amount currencyCode } } customer { id }
      fulfillments(first: 5) { id status createdAt updatedAt trackingInfo { number company url } }
      lineItems(first: ${NESTED}) { pageInfo { hasNextPage endCursor } nodes { id title sku quantity variant { id } product { id } } }`,
  },
  locations: {
    connection: 'locations',
    fields: 'id legacyResourceId name isActive createdAt updatedAt',
  },
  // Memberships and levels are listed by a backfill; in between, webhooks keep them current.
  collections: { connection: 'collections', fields: 'id legacyResourceId title handle sortOrder updatedAt' },
  inventory_items: {
    connection: 'inventoryItems',
    fields: 'id legacyResourceId sku tracked createdAt updatedAt variant { id }',
    sortKey: null,
  },
};

/** How each synced resource is listed: bulk exports for a full backfill, searches by update time after. */
export function shopifyListing(options: ShopifyListingOptions): Partial<Record<ShopifyTable, Partial<SyncResource>>> {
  /** An incremental list: shop after shop, objects updated since `since`, by cursor (`shop \t cursor`). */
  const incrementalList =
    (spec: Incremental) =>
    async ({
      cursor,
      since,
      scopes,
    }: {
      cursor: string | null;
      since: Date | null;
      scopes?: readonly string[] | undefined;
    }): Promise<Page<SyncedObject>> => {
      const shops = inScope(await options.shops(), scopes);
      const listedInFull = since ? await options.installedAfter(since) : new Set<string>();
      const [fromShop, after = ''] = cursor ? cursor.split('\t') : [];
      let index = fromShop === undefined ? 0 : shops.indexOf(fromShop);
      if (index < 0) index = shops.length;
      for (let page = after; index < shops.length; index += 1, page = '') {
        const shop = shops[index]!;
        const admin = await options.admin(shop);
        const search = since && !listedInFull.has(shop) ? `updated_at:>='${since.toISOString()}'` : null;
        const data = await admin.request<Record<string, Connection<SyncedObject>>>(
          `query ($after: String, $search: String) {
            list: ${spec.connection}(first: ${PAGE}, after: $after, ${spec.sortKey === null ? '' : 'sortKey: UPDATED_AT, '}query: $search) {
              pageInfo { hasNextPage endCursor } nodes { ${spec.fields} }
            }
          }`,
          { after: page || null, search },
        );
        const list = data['list']!;
        const objects = list.nodes.map((node) => ({ ...node, shop }));
        if (list.pageInfo.hasNextPage && list.pageInfo.endCursor)
          return { objects, next: `${shop}\t${list.pageInfo.endCursor}` };
        const following = shops[index + 1];
        if (objects.length > 0) return { objects, next: following ? `${following}\t` : null };
      }
      return { objects: [], next: null };
    };

  const listing: Partial<Record<ShopifyTable, Partial<SyncResource>>> = {};
  for (const table of SHOPIFY_TABLES) {
    const incremental = INCREMENTAL[table];
    const exported = (BULK_EXPORTS as Partial<Record<ShopifyTable, BulkExport>>)[table];
    if (!incremental || !exported) continue;
    listing[table] = {
      list: incrementalList(incremental),
      listJson: {
        list: bulkListing({
          admin: options.admin,
          shops: options.shops,
          query: exported.query,
          pollMs: options.bulkPollMs,
        }),
        states: bulkStates(exported),
      },
    };
  }
  return listing;
}
