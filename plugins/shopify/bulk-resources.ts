/**
 * What each synced Shopify resource exports in a bulk operation, and how a chunk of that export
 * becomes rows. A bulk query names connections with `edges { node }`; a nested connection's nodes
 * come as lines of their own with `__parentId`, after their parent. The lines are parsed here and
 * handed to the sync core's store, which COPYs rows that are all new and upserts the others
 * ("newer state wins"); in Postgres, a set-based statement parsing the lines cost about 1.5× a
 * COPY of the same rows.
 */
import type { JsonPage, ObjectState, SyncedObject } from '../../gateway/sdk.ts';
import type { ShopifyTable } from './resources.ts';

/** A line of a bulk export: a node, with its parent's GID when it came from a nested connection. */
type Line = SyncedObject & { id: string; updatedAt?: string; __parentId?: string };

/** Where a line goes: its table and the object stored there (`shop` added), or nothing. */
type Route = (line: Line, shop: string) => { table: ShopifyTable; object: SyncedObject } | undefined;

export interface BulkExport {
  /** The bulk query (Admin GraphQL). */
  query: string;
  /** Routes each line by the type in its GID (`Product`, `ProductVariant`). */
  routes: Readonly<Record<string, Route>>;
}

const number = (gid: string) => gid.slice(gid.lastIndexOf('/') + 1).replace(/\?.*$/, '');
const typeOf = (gid: string) => gid.slice('gid://shopify/'.length, gid.indexOf('/', 'gid://shopify/'.length));
const withoutParent = ({ __parentId: _, ...object }: Line) => object;

/** A top-level node (a line without a parent) into `table`. */
const node =
  (table: ShopifyTable): Route =>
  (line, shop) =>
    line.__parentId === undefined ? { table, object: { ...line, shop } } : undefined;

export const VARIANT_FIELDS =
  'id legacyResourceId title sku price inventoryQuantity createdAt updatedAt inventoryItem { id }';

export const BULK_EXPORTS = {
  products: {
    query: `{ products { edges { node {
      id legacyResourceId title handle status vendor productType tags createdAt updatedAt
      variants { edges { node { ${VARIANT_FIELDS} } } }
    } } } }`,
    routes: {
      Product: node('products'),
      // As the incremental list stores a product's variants (the sync core's children).
      ProductVariant: (line, shop) => ({
        table: 'product_variants',
        object: { ...withoutParent(line), shop, product_id: line.__parentId },
      }),
    },
  },
  customers: {
    query:
      '{ customers { edges { node { id legacyResourceId firstName lastName email phone state tags createdAt updatedAt } } } }',
    routes: { Customer: node('customers') },
  },
  orders: {
    // Fulfillments are a list inside each order: the store takes them out as the order's children.
    query: `{ orders { edges { node {
      id legacyResourceId name email createdAt updatedAt cancelledAt displayFinancialStatus displayFulfillmentStatus
      currencyCode totalPriceSet { shopMoney { amount currencyCode } } customer { id }
      fulfillments { id status createdAt updatedAt trackingInfo { number company url } }
      lineItems { edges { node { id title sku quantity variant { id } product { id } } } }
    } } } }`,
    routes: {
      Order: node('orders'),
      LineItem: (line, shop) => ({
        table: 'order_line_items',
        object: { ...withoutParent(line), shop, order_id: line.__parentId },
      }),
    },
  },
  locations: {
    query: '{ locations { edges { node { id legacyResourceId name isActive createdAt updatedAt } } } }',
    routes: { Location: node('locations') },
  },
  collections: {
    query: `{ collections { edges { node {
      id legacyResourceId title handle sortOrder updatedAt products { edges { node { id } } }
    } } } }`,
    routes: {
      Collection: node('collections'),
      // A membership, keyed "<collection id>/<product id>".
      Product: (line, shop) =>
        line.__parentId === undefined
          ? undefined
          : {
              table: 'collection_products',
              object: {
                id: `${number(line.__parentId)}/${number(line.id)}`,
                shop,
                collection: { id: line.__parentId },
                product: { id: line.id },
              },
            },
    },
  },
  inventory_items: {
    query: `{ inventoryItems { edges { node {
      id legacyResourceId sku tracked createdAt updatedAt variant { id }
      inventoryLevels { edges { node { id location { id } quantities(names: ["available", "on_hand"]) { name quantity } createdAt updatedAt } } }
    } } } }`,
    routes: {
      InventoryItem: node('inventory_items'),
      // Keyed "<inventory item id>/<location id>" as the webhooks key it; `available` taken out of `quantities`.
      InventoryLevel: (line, shop) => {
        const location = (line['location'] as { id: string } | null)?.id;
        const quantities = (line['quantities'] as { name: string; quantity: number }[] | undefined) ?? [];
        if (line.__parentId === undefined || location === undefined) return undefined;
        return {
          table: 'inventory_levels',
          object: {
            ...withoutParent(line),
            id: `${number(line.__parentId)}/${number(location)}`,
            admin_graphql_api_id: line.id,
            shop,
            item: { id: line.__parentId },
            available: quantities.find((q) => q.name === 'available')?.quantity ?? null,
          },
        };
      },
    },
  },
} as const satisfies Partial<Record<ShopifyTable, BulkExport>>;

/**
 * The object states of a batch of export chunks (each of one shop, `page.scope`), listed at
 * `listedAt` (epoch seconds). An object is as of its `updatedAt`; one without (a line item, a
 * membership) as of its parent's when the parent is in the batch, else as of the listing.
 */
export function bulkStates(exported: BulkExport) {
  return (pages: readonly JsonPage[], listedAt: number): ObjectState[] => {
    const states: ObjectState[] = [];
    const versionOf = new Map<string, number>();
    for (const page of pages) {
      if (page.json.length === 0) continue;
      const shop = page.scope;
      if (!shop) throw new Error('a Shopify bulk chunk without its shop');
      for (const text of page.json.toString('utf8').split('\n')) {
        if (text === '') continue;
        const line = JSON.parse(text) as Line;
        const routed = exported.routes[typeOf(line.id)]?.(line, shop);
        if (!routed) continue;
        const parentAt = line.__parentId === undefined ? undefined : versionOf.get(line.__parentId);
        const versionAt = line.updatedAt ? Date.parse(line.updatedAt) / 1000 : (parentAt ?? listedAt);
        if (line.__parentId === undefined) versionOf.set(line.id, versionAt);
        states.push({ table: routed.table, object: routed.object, deleted: false, versionAt, eventId: null });
      }
    }
    return states;
  };
}
