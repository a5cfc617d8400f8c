/**
 * The Shopify resources for the sync core: one table each, keyed by the numeric id (the GID's
 * number; inventory levels and collection products by composite text ids), ordered by Shopify's
 * `updated_at`. Variants arrive inside products, line items and fulfillments inside orders (the
 * sync core's children). The listing side (bulk operations of the Admin GraphQL API) is added to
 * these descriptors by the backfill.
 */
import type { ChildResource, SyncedObject, SyncResource, SyncTables } from '../../gateway/sdk.ts';

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

/** Tables whose ids are composite text ("<inventory item id>/<location id>", "<collection id>/<product id>"). */
const TEXT_IDS: readonly ShopifyTable[] = ['inventory_levels', 'collection_products'];

export const idTypeOf = (table: ShopifyTable): 'text' | 'bigint' => (TEXT_IDS.includes(table) ? 'text' : 'bigint');

/**
 * An object's id as stored: the number of a numeric id or of a GID (webhooks send `123`, the
 * GraphQL API `gid://shopify/Product/123`); composite ids as they are.
 */
export function shopifyIdOf(object: SyncedObject): string {
  const id = object['id'];
  if (typeof id === 'number') return String(id);
  const text = String(id);
  const gid = /^gid:\/\/shopify\/\w+\/(\d+)(\?.*)?$/.exec(text);
  return gid ? gid[1]! : text;
}

/**
 * A REST product lists at most 100 variants (the REST API's limit); a list that long may be cut,
 * so only shorter ones are taken as complete (variants missing from them are deleted).
 */
const REST_VARIANT_LIMIT = 100;

type ShopifyObject = SyncedObject & { shop?: unknown };

/**
 * The children a parent carries under one of `keys`: a REST list (`variants`, `line_items`), or
 * a GraphQL connection's `nodes` (`variants`, `lineItems`; complete unless it has a next page),
 * each given the parent's shop and its id in `parentColumn`.
 */
function carried(
  table: ShopifyTable,
  parentColumn: string,
  keys: readonly string[],
  complete: (list: readonly unknown[]) => boolean,
): ChildResource {
  return {
    table,
    idType: idTypeOf(table),
    parentColumn,
    of(parent: ShopifyObject) {
      for (const key of keys) {
        const value = parent[key] as unknown;
        const connection = value as { nodes?: unknown; pageInfo?: { hasNextPage?: boolean } } | null | undefined;
        const list = Array.isArray(value) ? value : Array.isArray(connection?.nodes) ? connection.nodes : undefined;
        if (!list) continue;
        const merge = { shop: parent.shop, [parentColumn]: parent['id'] };
        return {
          objects: (list as SyncedObject[]).map((child) => ({ ...child, ...merge })),
          complete: Array.isArray(value) ? complete(list) : !connection?.pageInfo?.hasNextPage,
        };
      }
      return undefined;
    },
  };
}

export const PARENTS: Partial<Record<ShopifyTable, readonly ChildResource[]>> = {
  products: [carried('product_variants', 'product_id', ['variants'], (list) => list.length < REST_VARIANT_LIMIT)],
  // REST line items do not name their order; GraphQL fulfillments neither.
  orders: [
    carried('order_line_items', 'order_id', ['line_items', 'lineItems'], () => true),
    carried('fulfillments', 'order_id', ['fulfillments'], () => true),
  ],
};

/** The sync core's view of the Shopify tables (listing is added by the backfill). */
export function shopifySyncTables(listing: Partial<Record<ShopifyTable, Partial<SyncResource>>> = {}): SyncTables {
  return {
    schema: 'shopify',
    versionColumn: 'updated_at',
    idOf: shopifyIdOf,
    resources: SHOPIFY_TABLES.map(
      (table): SyncResource => ({
        table,
        idType: idTypeOf(table),
        ...(PARENTS[table] && { children: PARENTS[table] }),
        ...listing[table],
      }),
    ),
  };
}
