/**
 * What each synced Shopify resource exports in a bulk operation, and the statement that writes a
 * chunk of that export (plugins/shopify/sql/bulk-*.sql). A bulk query names connections with
 * `edges { node }`; a nested connection's nodes come as lines of their own with `__parentId`.
 */
import type { JsonPage, Queryable } from '../../gateway/sdk.ts';
import { shopifySql, shopifyStatement } from './sql.ts';

export interface BulkExport {
  /** The bulk query (Admin GraphQL). */
  query: string;
  /** The statement writing a chunk: $1 JSONL text, $2 shop, $3 listing time; returns `written`. */
  statement: string;
  /** For `bulk-objects` (one table): the table, and the GID type of its objects ($4). */
  table?: string;
  kind?: string;
}

const VARIANT_FIELDS = 'id legacyResourceId title sku price inventoryQuantity createdAt updatedAt inventoryItem { id }';

export const BULK_EXPORTS = {
  products: {
    query: `{ products { edges { node {
      id legacyResourceId title handle status vendor productType tags createdAt updatedAt
      variants { edges { node { ${VARIANT_FIELDS} } } }
    } } } }`,
    statement: 'bulk-products',
  },
  customers: {
    query:
      '{ customers { edges { node { id legacyResourceId firstName lastName email phone state tags createdAt updatedAt } } } }',
    statement: 'bulk-objects',
    table: 'customers',
    kind: 'Customer',
  },
  orders: {
    query: `{ orders { edges { node {
      id legacyResourceId name email createdAt updatedAt cancelledAt displayFinancialStatus displayFulfillmentStatus
      currencyCode totalPriceSet { shopMoney { amount currencyCode } } customer { id }
      fulfillments { id status createdAt updatedAt trackingInfo { number company url } }
      lineItems { edges { node { id title sku quantity variant { id } product { id } } } }
    } } } }`,
    statement: 'bulk-orders',
  },
  locations: {
    query: '{ locations { edges { node { id legacyResourceId name isActive createdAt updatedAt } } } }',
    statement: 'bulk-objects',
    table: 'locations',
    kind: 'Location',
  },
  collections: {
    query: `{ collections { edges { node {
      id legacyResourceId title handle sortOrder updatedAt products { edges { node { id } } }
    } } } }`,
    statement: 'bulk-collections',
  },
  inventory_items: {
    query: `{ inventoryItems { edges { node {
      id legacyResourceId sku tracked createdAt updatedAt variant { id }
      inventoryLevels { edges { node { id location { id } quantities(names: ["available", "on_hand"]) { name quantity } createdAt updatedAt } } }
    } } } }`,
    statement: 'bulk-inventory',
  },
} as const satisfies Record<string, BulkExport>;

/**
 * Writes a batch of export chunks: one statement per shop, its chunks' bytes joined (each chunk
 * ends at a line end), sent as the text parameter's raw bytes.
 */
export function bulkWriter(exported: BulkExport) {
  return async (db: Queryable, pages: readonly JsonPage[], listedAt: number): Promise<number> => {
    const byShop = new Map<string, Buffer[]>();
    for (const page of pages) {
      if (page.json.length === 0) continue;
      if (!page.scope) throw new Error('a Shopify bulk chunk without its shop');
      const chunks = byShop.get(page.scope) ?? [];
      chunks.push(page.json);
      byShop.set(page.scope, chunks);
    }
    const { table, kind } = exported;
    const statement = table ? shopifyStatement(exported.statement, { table }) : shopifySql(exported.statement);
    let written = 0;
    for (const [shop, chunks] of byShop) {
      const { rows } = await db.query<{ written: string }>(statement, [
        Buffer.concat(chunks),
        shop,
        listedAt,
        ...(kind ? [kind] : []),
      ]);
      written += Number(rows[0]!.written);
    }
    return written;
  };
}
