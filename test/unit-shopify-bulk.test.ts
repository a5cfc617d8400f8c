/** How a Shopify bulk export's lines become rows (plugins/shopify/bulk-resources.ts). */
import { describe, expect, it } from 'vitest';
import { BULK_EXPORTS, bulkStates } from '../plugins/shopify/bulk-resources.ts';

const SHOP = 'unit.myshopify.com';
const LISTED_AT = Date.UTC(2026, 11, 1) / 1000;
const at = (iso: string) => Date.parse(iso) / 1000;
const unscoped = (lines: object[]) => ({
  json: Buffer.from(lines.map((line) => JSON.stringify(line)).join('\n')),
  next: null,
});
const page = (lines: object[]) => ({ ...unscoped(lines), scope: SHOP });

const order = { id: 'gid://shopify/Order/10', updatedAt: '2026-11-02T10:00:00Z', fulfillments: [] };
const lineItem = { id: 'gid://shopify/LineItem/11', title: 'Mug', __parentId: 'gid://shopify/Order/10' };
const orphanItem = { id: 'gid://shopify/LineItem/12', title: 'Cup', __parentId: 'gid://shopify/Order/99' };
const level = {
  id: 'gid://shopify/InventoryLevel/5?inventory_item_id=7',
  location: { id: 'gid://shopify/Location/3' },
  quantities: [
    { name: 'on_hand', quantity: 9 },
    { name: 'available', quantity: 4 },
  ],
  updatedAt: '2026-11-03T00:00:00Z',
  __parentId: 'gid://shopify/InventoryItem/7',
};

describe('bulk export lines', () => {
  it.each([
    {
      rule: 'a top-level node keeps its shape, with its shop, as of its updatedAt',
      exported: BULK_EXPORTS.products,
      line: { id: 'gid://shopify/Product/1', title: 'Mug', updatedAt: '2026-11-01T00:00:00Z' },
      table: 'products',
      object: { id: 'gid://shopify/Product/1', title: 'Mug', updatedAt: '2026-11-01T00:00:00Z', shop: SHOP },
      versionAt: at('2026-11-01T00:00:00Z'),
    },
    {
      rule: 'a variant names its product as the incremental list does',
      exported: BULK_EXPORTS.products,
      line: {
        id: 'gid://shopify/ProductVariant/2',
        updatedAt: '2026-11-01T00:00:00Z',
        __parentId: 'gid://shopify/Product/1',
      },
      table: 'product_variants',
      object: {
        id: 'gid://shopify/ProductVariant/2',
        updatedAt: '2026-11-01T00:00:00Z',
        shop: SHOP,
        product_id: 'gid://shopify/Product/1',
      },
      versionAt: at('2026-11-01T00:00:00Z'),
    },
    {
      rule: 'a line item whose order is not in the batch is as of the listing',
      exported: BULK_EXPORTS.orders,
      line: orphanItem,
      table: 'order_line_items',
      object: { id: orphanItem.id, title: 'Cup', shop: SHOP, order_id: 'gid://shopify/Order/99' },
      versionAt: LISTED_AT,
    },
    {
      rule: "a collection's product is a membership keyed <collection>/<product>",
      exported: BULK_EXPORTS.collections,
      line: { id: 'gid://shopify/Product/1', __parentId: 'gid://shopify/Collection/4' },
      table: 'collection_products',
      object: {
        id: '4/1',
        shop: SHOP,
        collection: { id: 'gid://shopify/Collection/4' },
        product: { id: 'gid://shopify/Product/1' },
      },
      versionAt: LISTED_AT,
    },
    {
      rule: 'an inventory level is keyed <item>/<location>, its GID kept, available taken out',
      exported: BULK_EXPORTS.inventory_items,
      line: level,
      table: 'inventory_levels',
      object: {
        id: '7/3',
        admin_graphql_api_id: level.id,
        location: level.location,
        quantities: level.quantities,
        updatedAt: level.updatedAt,
        shop: SHOP,
        item: { id: 'gid://shopify/InventoryItem/7' },
        available: 4,
      },
      versionAt: at(level.updatedAt),
    },
  ])('$rule', ({ exported, line, table, object, versionAt }) => {
    expect(bulkStates(exported)([page([line])], LISTED_AT)).toEqual([
      { table, object, deleted: false, versionAt, eventId: null },
    ]);
  });

  it('dates a line item as its order in the same batch, even from an earlier chunk', () => {
    const states = bulkStates(BULK_EXPORTS.orders)([page([order]), page([lineItem])], LISTED_AT);
    expect(states.map((state) => [state.table, state.versionAt])).toEqual([
      ['orders', at(order.updatedAt)],
      ['order_line_items', at(order.updatedAt)],
    ]);
  });

  it('leaves out lines of types the export does not store, and refuses a chunk without its shop', () => {
    const stray = { id: 'gid://shopify/Product/1', __parentId: 'gid://shopify/Order/10' };
    expect(bulkStates(BULK_EXPORTS.customers)([page([stray])], LISTED_AT)).toEqual([]);
    expect(() => bulkStates(BULK_EXPORTS.customers)([unscoped([stray])], LISTED_AT)).toThrow(
      'a Shopify bulk chunk without its shop',
    );
  });
});
