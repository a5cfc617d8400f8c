/**
 * The Shopify resources for the sync core. A full backfill exports each resource of each shop
 * with one bulk operation (plugins/shopify/bulk.ts): no page-size ceiling. An incremental sync
 * lists what changed since the last one with an `updated_at:>'…'` search, newest last, by cursor;
 * children come inside their parent (variants in products, line items and fulfillments in
 * orders). Rows keep each object as the GraphQL API returns it, with `shop` added (the webhook
 * path stores the REST shape; the migration's columns read both).
 */
import type { ChildResource, Page, SyncedObject, SyncResource, SyncTables } from '../../gateway/sdk.ts';
import { bulkListing } from './bulk.ts';
import { BULK_EXPORTS, bulkWriter } from './bulk-resources.ts';
import type { ShopifyAdmin } from './client.ts';

export const SHOPIFY_TABLES = [
  'products',
  'product_variants',
  'collections',
  'collection_products',
  'customers',
  'orders',
  'order_line_items',
  'fulfillments',
  'inventory_items',
  'inventory_levels',
  'locations',
] as const;

export type ShopifyTable = (typeof SHOPIFY_TABLES)[number];

/** The number in a GID (`gid://shopify/Product/123` → `123`), or the id itself when it is one. */
export function numericId(id: unknown): string {
  const match = /(\d+)(\?.*)?$/.exec(String(id));
  if (!match) throw new Error(`not a Shopify id: ${String(id)}`);
  return match[1]!;
}

/** Objects per page of an incremental list (its nested lists are bounded too: cost stays < 1,000). */
const PAGE = 25;

interface Connection<T> {
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  nodes: T[];
}

export interface ShopifyResourcesOptions {
  /** The Admin client of a shop. */
  admin(shop: string): Promise<ShopifyAdmin>;
  /** The shops whose data is synced (installed, not uninstalled), in a stable order. */
  shops(): Promise<string[]>;
  /** How often a bulk operation is polled. */
  bulkPollMs: number;
}

interface Incremental {
  /** The connection field and the fields of each node (nested lists bounded). */
  connection: string;
  fields: string;
  children?: readonly ChildResource[];
}

const VARIANT_FIELDS = 'id legacyResourceId title sku price inventoryQuantity createdAt updatedAt inventoryItem { id }';

/** A child list carried inside its parent (`nodes` of a connection or a plain list), stored with the parent's id. */
function carried(table: string, key: string, parentKey: string): ChildResource {
  return {
    table,
    idType: 'bigint',
    parentColumn: `${parentKey}_id`,
    of(parent) {
      const value = parent[key] as Connection<SyncedObject> | SyncedObject[] | undefined;
      if (!value) return undefined;
      const list = Array.isArray(value) ? value : value.nodes;
      const complete = Array.isArray(value) || !value.pageInfo?.hasNextPage;
      const objects = list.map((child) => ({ ...child, shop: parent['shop'], [parentKey]: { id: parent['id'] } }));
      return { objects, complete };
    },
  };
}

const INCREMENTAL: Partial<Record<ShopifyTable, Incremental>> = {
  products: {
    connection: 'products',
    fields: `id legacyResourceId title handle status vendor productType tags createdAt updatedAt publishedAt
      variants(first: ${PAGE}) { pageInfo { hasNextPage endCursor } nodes { ${VARIANT_FIELDS} } }`,
    children: [carried('product_variants', 'variants', 'product')],
  },
  customers: {
    connection: 'customers',
    fields: 'id legacyResourceId firstName lastName email phone state tags createdAt updatedAt',
  },
  orders: {
    connection: 'orders',
    fields: `id legacyResourceId name email createdAt updatedAt cancelledAt displayFinancialStatus
      displayFulfillmentStatus currencyCode totalPriceSet { shopMoney { amount currencyCode } } customer { id }
      fulfillments(first: ${PAGE}) { id status createdAt updatedAt trackingInfo { number company url } }
      lineItems(first: ${PAGE}) { pageInfo { hasNextPage endCursor } nodes { id title sku quantity variant { id } product { id } } }`,
    children: [carried('order_line_items', 'lineItems', 'order'), carried('fulfillments', 'fulfillments', 'order')],
  },
  locations: {
    connection: 'locations',
    fields: 'id legacyResourceId name isActive createdAt updatedAt',
  },
};

export function shopifySyncTables(options: ShopifyResourcesOptions): SyncTables {
  /** An incremental list: shop after shop, objects updated since `since`, by cursor (`shop \t cursor`). */
  const incrementalList =
    (spec: Incremental) =>
    async ({ cursor, since }: { cursor: string | null; since: Date | null }): Promise<Page<SyncedObject>> => {
      const shops = await options.shops();
      const [fromShop, after = ''] = cursor ? cursor.split('\t') : [];
      let index = fromShop === undefined ? 0 : shops.indexOf(fromShop);
      if (index < 0) index = shops.length;
      for (let page = after; index < shops.length; index += 1, page = '') {
        const shop = shops[index]!;
        const admin = await options.admin(shop);
        const search = since ? `updated_at:>='${since.toISOString()}'` : null;
        const data = await admin.request<Record<string, Connection<SyncedObject>>>(
          `query ($after: String, $search: String) {
            list: ${spec.connection}(first: ${PAGE}, after: $after, sortKey: UPDATED_AT, query: $search) {
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

  const resources: SyncResource[] = SHOPIFY_TABLES.map((table): SyncResource => {
    const incremental = INCREMENTAL[table];
    const exported = (BULK_EXPORTS as Partial<Record<ShopifyTable, (typeof BULK_EXPORTS)[keyof typeof BULK_EXPORTS]>>)[
      table
    ];
    return {
      table,
      idType: table === 'collection_products' || table === 'inventory_levels' ? 'text' : 'bigint',
      ...(incremental
        ? { list: incrementalList(incremental), ...(incremental.children ? { children: incremental.children } : {}) }
        : {}),
      ...(exported
        ? {
            listJson: {
              list: bulkListing({
                admin: options.admin,
                shops: options.shops,
                query: exported.query,
                pollMs: options.bulkPollMs,
              }),
              write: bulkWriter(exported),
            },
          }
        : {}),
    };
  });

  return {
    schema: 'shopify',
    versionColumn: 'updated_at',
    resources,
    idOf: (object) => numericId(object['id']),
  };
}
