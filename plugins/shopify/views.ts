/**
 * How each synced Shopify table appears in GraphQL (the sync core builds the types, root fields
 * and planned statements from it: gateway/sync/views.ts). Relations follow Shopify's numeric ids
 * as the generated columns hold them (a variant's product_id, an order's customer_id…); a
 * product's collections go through collection_products, one row per membership. Every row
 * carries its shop, and every statement is held to the shops the reader may see (shopScope).
 */
import {
  codedError,
  type Filter,
  type Relation,
  type Session,
  type SyncView,
  type SyncViews,
} from '../../gateway/sdk.ts';
import type { ShopifyTable } from './resources.ts';

/** The session variable naming the shops a non-admin reader may see: `a.myshopify.com,b.myshopify.com`. */
export const SHOPS_VARIABLE = 'x-hasura-shopify-shops';
/** Shops one session may name. */
export const MAX_SESSION_SHOPS = 100;
export const ShopifyErrorCode = {
  /** The session's x-hasura-shopify-shops is not a list of at most 100 shop domains. */
  SHOPS_INVALID: 'SHOPIFY_SHOPS_INVALID',
} as const;
export const SCOPE_ERRORS = {
  [ShopifyErrorCode.SHOPS_INVALID]: {
    status: 403,
    description: `The session's ${SHOPS_VARIABLE} is not a comma-separated list of at most ${MAX_SESSION_SHOPS} name.myshopify.com domains.`,
  },
};

const SHOP_DOMAIN = /^[a-z0-9][a-z0-9-]{0,99}\.myshopify\.com$/;

/**
 * The shops a session may read: every one for the admin (null), else those its
 * x-hasura-shopify-shops names (none without it). A malformed list is refused, never read in part.
 */
export function sessionShops(session: Session): readonly string[] | null {
  if (session.role === 'admin') return null;
  const value = session.variables[SHOPS_VARIABLE];
  if (value === undefined || value.trim() === '') return [];
  const shops = value.split(',').map((shop) => shop.trim().toLowerCase());
  const invalid = () =>
    codedError(
      ShopifyErrorCode.SHOPS_INVALID,
      `${SHOPS_VARIABLE} must list at most ${MAX_SESSION_SHOPS} shop domains (name.myshopify.com), comma-separated`,
    );
  if (shops.length > MAX_SESSION_SHOPS) throw invalid();
  if (!shops.every((shop) => SHOP_DOMAIN.test(shop))) throw invalid();
  return [...new Set(shops)];
}

const id = (column: string): Filter => ({ type: 'String', column, description: 'A numeric Shopify id.' });
const to = (table: ShopifyTable, column: string): Relation => ({ table, on: { id: column } });
const from = (table: ShopifyTable, column: string): Relation => ({ table, on: { [column]: 'id' } });
/** Every table but collection_products (a pairing, not a Shopify object) has the object's GID. */
const gid = { type: 'String', description: "Shopify's global id (gid://shopify/…)." } as const;
const numericId = (description: string) => ({ type: 'BigInt', description }) as const;

/** The Shopify tables' views, readable by admins and by the roles in SHOPIFY_READ_ROLES, each reader held to their shops. */
export function shopifyViews(readRoles: () => readonly string[]): SyncViews {
  return {
    prefix: 'Shopify',
    schema: 'shopify',
    commonFields: {
      shop: { type: 'String', nullable: false, description: 'The shop it belongs to (name.myshopify.com).' },
      updatedAt: {
        type: 'DateTime',
        nullable: false,
        description: "Shopify's time of the state this row holds; an older state never replaces it.",
      },
    },
    orders: { UPDATED: 'updated_at' },
    orderEnum: 'ShopifyOrderBy',
    range: { from: 'updatedFrom', to: 'updatedTo' },
    relationStyle: 'connection',
    filterStyle: 'input',
    mayRead: (session) => session.role === 'admin' || readRoles().includes(session.role),
    rowScope: { column: 'shop', valuesFor: sessionShops },
    views: {
      products: {
        type: 'ShopifyProduct',
        description: 'A product.',
        idType: 'bigint',
        single: 'shopifyProduct',
        plural: 'shopifyProducts',
        fields: {
          gid,
          title: 'String',
          handle: 'String',
          status: { type: 'String', description: 'active, archived or draft.' },
          vendor: 'String',
          productType: 'String',
          createdAt: 'DateTime',
        },
        filters: {
          status: { type: 'String', description: 'active, archived or draft.' },
          vendor: { type: 'String' },
          productType: { type: 'String', column: 'product_type' },
          handle: { type: 'String' },
        },
        hasMany: {
          variants: from('product_variants', 'product_id'),
          collections: {
            ...from('collection_products', 'product_id'),
            description: 'The collections it is in, one membership each (its `collection`).',
          },
        },
      },
      product_variants: {
        type: 'ShopifyProductVariant',
        description: 'A variant of a product.',
        idType: 'bigint',
        single: 'shopifyProductVariant',
        plural: 'shopifyProductVariants',
        fields: {
          gid,
          productId: numericId("The product's id."),
          sku: 'String',
          title: 'String',
          price: { type: 'String', path: 'price', description: 'As Shopify writes it (a decimal).' },
          inventoryItemId: numericId("Its inventory item's id."),
        },
        filters: { sku: { type: 'String' }, product: id('product_id') },
        belongsTo: { product: to('products', 'product_id'), inventoryItem: to('inventory_items', 'inventory_item_id') },
      },
      collections: {
        type: 'ShopifyCollection',
        description: 'A collection of products.',
        idType: 'bigint',
        single: 'shopifyCollection',
        plural: 'shopifyCollections',
        fields: {
          gid,
          title: 'String',
          handle: 'String',
        },
        filters: { handle: { type: 'String' } },
        hasMany: {
          products: {
            ...from('collection_products', 'collection_id'),
            description: 'Its products, one membership each (its `product`).',
          },
        },
      },
      collection_products: {
        type: 'ShopifyCollectionProduct',
        description: 'A product in a collection.',
        single: 'shopifyCollectionProduct',
        plural: 'shopifyCollectionProducts',
        fields: { collectionId: numericId("The collection's id."), productId: numericId("The product's id.") },
        filters: { collection: id('collection_id'), product: id('product_id') },
        belongsTo: { collection: to('collections', 'collection_id'), product: to('products', 'product_id') },
      },
      customers: {
        type: 'ShopifyCustomer',
        description: 'A customer.',
        idType: 'bigint',
        single: 'shopifyCustomer',
        plural: 'shopifyCustomers',
        fields: {
          gid,
          email: 'String',
          phone: 'String',
          firstName: 'String',
          lastName: 'String',
          state: 'String',
          createdAt: 'DateTime',
        },
        filters: {
          email: { type: 'String', match: 'caseInsensitive', description: 'Ignoring case.' },
          state: { type: 'String' },
        },
        hasMany: { orders: from('orders', 'customer_id') },
      },
      orders: {
        type: 'ShopifyOrder',
        description: 'An order.',
        idType: 'bigint',
        single: 'shopifyOrder',
        plural: 'shopifyOrders',
        fields: {
          gid,
          name: { type: 'String', description: '#1001…' },
          email: 'String',
          customerId: numericId("The customer's id."),
          financialStatus: 'String',
          fulfillmentStatus: 'String',
          totalPrice: { type: 'String', column: 'total_price', description: 'In the shop currency.' },
          currency: 'String',
          createdAt: 'DateTime',
          cancelledAt: 'DateTime',
        },
        filters: {
          financialStatus: { type: 'String', column: 'financial_status', description: 'paid, pending, refunded…' },
          fulfillmentStatus: { type: 'String', column: 'fulfillment_status', description: 'fulfilled, partial…' },
          customer: id('customer_id'),
          name: { type: 'String' },
        },
        belongsTo: { customer: to('customers', 'customer_id') },
        hasMany: { lineItems: from('order_line_items', 'order_id'), fulfillments: from('fulfillments', 'order_id') },
      },
      order_line_items: {
        type: 'ShopifyOrderLineItem',
        description: 'A line of an order.',
        idType: 'bigint',
        single: 'shopifyOrderLineItem',
        plural: 'shopifyOrderLineItems',
        fields: {
          gid,
          orderId: numericId("The order's id."),
          productId: numericId("The product's id."),
          variantId: numericId("The variant's id."),
          sku: 'String',
          title: 'String',
          quantity: 'Int',
        },
        filters: { sku: { type: 'String' }, order: id('order_id') },
        belongsTo: {
          order: to('orders', 'order_id'),
          product: to('products', 'product_id'),
          variant: to('product_variants', 'variant_id'),
        },
      },
      fulfillments: {
        type: 'ShopifyFulfillment',
        description: 'A fulfillment of (part of) an order.',
        idType: 'bigint',
        single: 'shopifyFulfillment',
        plural: 'shopifyFulfillments',
        fields: {
          gid,
          orderId: numericId("The order's id."),
          status: 'String',
          trackingNumber: 'String',
        },
        filters: { status: { type: 'String' }, order: id('order_id') },
        belongsTo: { order: to('orders', 'order_id') },
      },
      inventory_items: {
        type: 'ShopifyInventoryItem',
        description: 'An inventory item (what a variant is stocked as).',
        idType: 'bigint',
        single: 'shopifyInventoryItem',
        plural: 'shopifyInventoryItems',
        fields: {
          gid,
          sku: 'String',
          tracked: 'Boolean',
        },
        filters: { sku: { type: 'String' } },
        hasMany: { levels: from('inventory_levels', 'inventory_item_id') },
      },
      inventory_levels: {
        type: 'ShopifyInventoryLevel',
        description: 'The stock of an inventory item at a location; its id is `<inventory item id>/<location id>`.',
        single: 'shopifyInventoryLevel',
        plural: 'shopifyInventory',
        pluralBy: { locationId: { type: 'String', column: 'location_id', description: "The location's numeric id." } },
        fields: {
          gid,
          inventoryItemId: numericId("The inventory item's id."),
          locationId: numericId("The location's id."),
          available: 'Int',
        },
        filters: { inventoryItem: id('inventory_item_id') },
        belongsTo: {
          inventoryItem: to('inventory_items', 'inventory_item_id'),
          location: to('locations', 'location_id'),
        },
      },
      locations: {
        type: 'ShopifyLocation',
        description: 'A location stock is kept at.',
        idType: 'bigint',
        single: 'shopifyLocation',
        plural: 'shopifyLocations',
        fields: {
          gid,
          name: 'String',
          active: 'Boolean',
        },
        filters: { active: { type: 'Boolean' } },
        hasMany: { inventoryLevels: from('inventory_levels', 'location_id') },
      },
    } satisfies Record<ShopifyTable, SyncView>,
  };
}
