/**
 * The data of one shop in the local Shopify stand-in (shopify-server.ts): records in the shapes of
 * the Admin GraphQL API (GIDs, `legacyResourceId`, ISO timestamps), kept in tables that list them in
 * any of Shopify's sort orders, and a deterministic seeder fast enough for 20,000 products.
 */

// ---------------------------------------------------------------------------------------------
// Records (the fields the GraphQL schema serves, by the same names)
// ---------------------------------------------------------------------------------------------

export type ProductStatus = 'ACTIVE' | 'ARCHIVED' | 'DRAFT';

export interface MoneyV2 {
  amount: string;
  currencyCode: string;
}

export interface MoneyBag {
  shopMoney: MoneyV2;
  presentmentMoney: MoneyV2;
}

export interface ShopifyProduct {
  id: string;
  legacyResourceId: string;
  title: string;
  handle: string;
  status: ProductStatus;
  vendor: string;
  productType: string;
  tags: string[];
  descriptionHtml: string;
  createdAt: string;
  updatedAt: string;
  /** GIDs of the product's variants, by position. */
  variantIds: string[];
}

export interface ShopifyProductVariant {
  id: string;
  legacyResourceId: string;
  productId: string;
  title: string;
  sku: string | null;
  price: string;
  position: number;
  /** Sum of the `available` quantities at every location (kept in step with the levels). */
  inventoryQuantity: number;
  inventoryItem: { id: string };
  createdAt: string;
  updatedAt: string;
}

export interface ShopifyInventoryItem {
  id: string;
  legacyResourceId: string;
  variantId: string;
  sku: string | null;
  tracked: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface ShopifyInventoryLevel {
  /** `gid://shopify/InventoryLevel/<n>?inventory_item_id=<item>`, as Shopify writes it. */
  id: string;
  itemId: string;
  locationId: string;
  available: number;
  committed: number;
  incoming: number;
  createdAt: string;
  updatedAt: string;
}

export interface ShopifyLocation {
  id: string;
  legacyResourceId: string;
  name: string;
  isActive: boolean;
  address: { address1: string; city: string; countryCode: string; zip: string };
  createdAt: string;
  updatedAt: string;
}

export interface ShopifyCollection {
  id: string;
  legacyResourceId: string;
  title: string;
  handle: string;
  sortOrder: string;
  updatedAt: string;
  productIds: string[];
}

export interface ShopifyCustomer {
  id: string;
  legacyResourceId: string;
  email: string | null;
  firstName: string | null;
  lastName: string | null;
  phone: string | null;
  state: 'DISABLED' | 'ENABLED' | 'INVITED' | 'DECLINED';
  tags: string[];
  createdAt: string;
  updatedAt: string;
}

export interface ShopifyLineItem {
  id: string;
  title: string;
  quantity: number;
  sku: string | null;
  variantId: string | null;
  productId: string | null;
  originalUnitPriceSet: MoneyBag;
}

export interface ShopifyFulfillment {
  id: string;
  name: string;
  status: 'SUCCESS' | 'CANCELLED' | 'ERROR' | 'FAILURE' | 'OPEN' | 'PENDING';
  trackingInfo: { company: string | null; number: string | null; url: string | null }[];
  createdAt: string;
  updatedAt: string;
}

export interface ShopifyOrder {
  id: string;
  legacyResourceId: string;
  name: string;
  email: string | null;
  customerId: string | null;
  displayFinancialStatus: 'PAID' | 'PENDING' | 'REFUNDED' | 'AUTHORIZED' | 'PARTIALLY_PAID' | 'VOIDED';
  displayFulfillmentStatus: 'FULFILLED' | 'UNFULFILLED' | 'PARTIALLY_FULFILLED';
  currencyCode: string;
  totalPriceSet: MoneyBag;
  subtotalPriceSet: MoneyBag;
  lineItems: ShopifyLineItem[];
  fulfillments: ShopifyFulfillment[];
  cancelledAt: string | null;
  closedAt: string | null;
  processedAt: string;
  createdAt: string;
  updatedAt: string;
}

/** Object kinds with a GID, and the first numeric id of each (Shopify's ids are 13-digit numbers). */
export const ID_BASES = {
  Product: 8_000_000_000_000,
  ProductVariant: 45_000_000_000_000,
  InventoryItem: 47_000_000_000_000,
  InventoryLevel: 100_000_000_000,
  Location: 70_000_000_000,
  Collection: 300_000_000_000,
  Customer: 7_000_000_000_000,
  Order: 5_000_000_000_000,
  LineItem: 13_000_000_000_000,
  Fulfillment: 4_000_000_000_000,
  BulkOperation: 3_000_000_000_000,
  WebhookSubscription: 1_000_000_000_000,
  Shop: 60_000_000_000,
} as const;

export type GidKind = keyof typeof ID_BASES;

export const gid = (kind: GidKind, id: number | string): string => `gid://shopify/${kind}/${id}`;

/** `gid://shopify/Product/123?x=y` → { kind: 'Product', id: 123 }; null for anything else. */
export function parseGid(value: string): { kind: string; id: number } | null {
  const match = /^gid:\/\/shopify\/([A-Za-z]+)\/(\d+)(?:\?.*)?$/.exec(value);
  if (!match) return null;
  return { kind: match[1] as string, id: Number(match[2]) };
}

export const legacyIdOf = (gidValue: string): number => Number(/\/(\d+)(?:\?|$)/.exec(gidValue)?.[1] ?? Number.NaN);

// ---------------------------------------------------------------------------------------------
// Tables
// ---------------------------------------------------------------------------------------------

/** A value to order by (ISO timestamps compare as strings, like their instants). */
export type SortValue = number | string;

export interface SortedView<T> {
  /** Records in ascending (value, legacy id) order. */
  records: T[];
  values: SortValue[];
  ids: number[];
}

/**
 * Records by GID, with views sorted by any key built on first use and dropped on any change, so a
 * page is a binary search and a slice whatever the table size (and seeding is one sort per key).
 */
export class Table<T extends { id: string }> {
  private readonly byId = new Map<string, T>();
  private readonly views = new Map<string, SortedView<T>>();

  get size(): number {
    return this.byId.size;
  }

  get(id: string): T | undefined {
    return this.byId.get(id);
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  set(record: T): T {
    this.byId.set(record.id, record);
    this.views.clear();
    return record;
  }

  delete(id: string): boolean {
    const deleted = this.byId.delete(id);
    if (deleted) this.views.clear();
    return deleted;
  }

  /** Call after changing a record in place. */
  touched(): void {
    this.views.clear();
  }

  all(): IterableIterator<T> {
    return this.byId.values();
  }

  sorted(name: string, key: (record: T) => SortValue): SortedView<T> {
    let view = this.views.get(name);
    if (!view) {
      const rows = Array.from(this.byId.values(), (record) => ({
        record,
        value: key(record),
        id: legacyIdOf(record.id),
      }));
      rows.sort((a, b) => compareKeys(a.value, a.id, b.value, b.id));
      view = {
        records: rows.map((row) => row.record),
        values: rows.map((row) => row.value),
        ids: rows.map((row) => row.id),
      };
      this.views.set(name, view);
    }
    return view;
  }
}

export function compareKeys(aValue: SortValue, aId: number, bValue: SortValue, bId: number): number {
  if (aValue !== bValue) return aValue < bValue ? -1 : 1;
  return aId < bId ? -1 : aId > bId ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// The shop
// ---------------------------------------------------------------------------------------------

export interface SeedOptions {
  products?: number;
  variantsPerProduct?: number;
  customers?: number;
  orders?: number;
  collections?: number;
  /** Locations holding inventory (every inventory item has a level at each); default 1. */
  locations?: number;
  /** Line items per order: 1 to this many; default 3. */
  lineItemsPerOrder?: number;
  /** Timestamps spread over this many days before `end`; default 365. */
  spanDays?: number;
  /** The latest timestamp given (ms); default the server clock when seeding. */
  end?: number;
  /** Seed of the pseudo-random choices (same seed and options, same data); default 1. */
  seed?: number;
}

export interface SeedResult {
  products: ShopifyProduct[];
  customers: ShopifyCustomer[];
  orders: ShopifyOrder[];
  collections: ShopifyCollection[];
  locations: ShopifyLocation[];
}

export interface ProductInput {
  title?: string;
  handle?: string;
  status?: ProductStatus;
  vendor?: string;
  productType?: string;
  tags?: string[];
  descriptionHtml?: string;
  createdAt?: string;
  updatedAt?: string;
  /** The variants (at least one, as Shopify always has a default variant); default one. */
  variants?: VariantInput[];
}

export interface VariantInput {
  title?: string;
  sku?: string | null;
  price?: string;
  /** Available quantity at the first location; default 0. */
  inventoryQuantity?: number;
}

export type ProductChanges = Omit<ProductInput, 'variants' | 'createdAt'>;

export type CustomerInput = Partial<Omit<ShopifyCustomer, 'id' | 'legacyResourceId'>>;

export interface OrderInput
  extends Partial<Omit<ShopifyOrder, 'id' | 'legacyResourceId' | 'name' | 'lineItems' | 'fulfillments'>> {
  name?: string;
  lineItems?: { variantId?: string | null; title?: string; quantity?: number; sku?: string | null; price?: string }[];
  /** Fulfillments to create (statuses); default none. */
  fulfillments?: ShopifyFulfillment['status'][];
}

export type OrderChanges = Omit<OrderInput, 'lineItems' | 'createdAt'>;

const FIRST_NAMES = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Frances', 'Ken', 'Radia', 'Linus'];
const LAST_NAMES = ['Lovelace', 'Hopper', 'Turing', 'Dijkstra', 'Liskov', 'Knuth', 'Allen', 'Thompson', 'Perlman'];
const ADJECTIVES = ['Classic', 'Organic', 'Vintage', 'Modern', 'Handmade', 'Rustic', 'Sleek', 'Cozy', 'Bold'];
const NOUNS = ['Mug', 'Shirt', 'Lamp', 'Chair', 'Notebook', 'Backpack', 'Scarf', 'Candle', 'Bottle', 'Hat'];
const VARIANT_TITLES = ['Small', 'Medium', 'Large', 'X-Large', 'Red', 'Blue', 'Green', 'Black', 'White'];
const VENDORS = ['Acme', 'Globex', 'Initech', 'Umbrella', 'Hooli'];
const CITIES: [string, string, string][] = [
  ['Ottawa', 'CA', 'K1P 1J1'],
  ['Berlin', 'DE', '10115'],
  ['Austin', 'US', '73301'],
  ['Lyon', 'FR', '69001'],
];

/** A small, fast, seedable PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const iso = (ms: number): string => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

/** Shopify's timestamps: seconds, `Z`. */
export const isoSeconds = iso;

const slug = (text: string): string =>
  text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');

const money = (amount: string, currencyCode: string): MoneyBag => ({
  shopMoney: { amount, currencyCode },
  presentmentMoney: { amount, currencyCode },
});

/**
 * One shop's objects. Every change bumps the record's `updatedAt` to the clock (unless given) and
 * reports it through `onChange` (the server turns that into webhooks and cache invalidation).
 */
export class ShopStore {
  readonly products = new Table<ShopifyProduct>();
  readonly variants = new Table<ShopifyProductVariant>();
  readonly inventoryItems = new Table<ShopifyInventoryItem>();
  /** Levels by inventory item GID, then location GID. */
  readonly inventoryLevels = new Map<string, Map<string, ShopifyInventoryLevel>>();
  readonly locations = new Table<ShopifyLocation>();
  readonly collections = new Table<ShopifyCollection>();
  /** Collection GIDs by product GID. */
  readonly productCollections = new Map<string, string[]>();
  readonly customers = new Table<ShopifyCustomer>();
  readonly orders = new Table<ShopifyOrder>();
  /** Order GIDs by customer GID, in creation order. */
  readonly customerOrders = new Map<string, string[]>();
  readonly currencyCode: string;
  private readonly nextIds = new Map<GidKind, number>();
  private orderNumber = 1000;
  private readonly now: () => number;

  private readonly idOffset: number;

  /** `idOffset` is added to every id base (see ShopOptions.idOffset). */
  constructor(now: () => number, currencyCode = 'USD', idOffset = 0) {
    this.now = now;
    this.currencyCode = currencyCode;
    this.idOffset = idOffset;
  }

  nextId(kind: GidKind): number {
    const id = (this.nextIds.get(kind) ?? ID_BASES[kind] + this.idOffset) + 1;
    this.nextIds.set(kind, id);
    return id;
  }

  private stamp(): string {
    return iso(this.now());
  }

  // --- locations -------------------------------------------------------------------------------

  addLocation(name?: string, at?: string): ShopifyLocation {
    const n = this.nextId('Location');
    const [city, countryCode, zip] = CITIES[this.locations.size % CITIES.length] as [string, string, string];
    const stamp = at ?? this.stamp();
    return this.locations.set({
      id: gid('Location', n),
      legacyResourceId: String(n),
      name: name ?? (this.locations.size === 0 ? 'Shop location' : `Warehouse ${this.locations.size}`),
      isActive: true,
      address: { address1: `${this.locations.size + 1} Main Street`, city, countryCode, zip },
      createdAt: stamp,
      updatedAt: stamp,
    });
  }

  /** The first location, made on demand (a shop always has one). */
  primaryLocation(): ShopifyLocation {
    return this.locations.sorted('ID', (l) => legacyIdOf(l.id)).records[0] ?? this.addLocation();
  }

  // --- products --------------------------------------------------------------------------------

  addProduct(input: ProductInput = {}): ShopifyProduct {
    const n = this.nextId('Product');
    const createdAt = input.createdAt ?? this.stamp();
    const title = input.title ?? `Product ${n - ID_BASES.Product}`;
    const product: ShopifyProduct = {
      id: gid('Product', n),
      legacyResourceId: String(n),
      title,
      handle: input.handle ?? `${slug(title)}-${n - ID_BASES.Product}`,
      status: input.status ?? 'ACTIVE',
      vendor: input.vendor ?? 'Acme',
      productType: input.productType ?? '',
      tags: input.tags ?? [],
      descriptionHtml: input.descriptionHtml ?? '',
      createdAt,
      updatedAt: input.updatedAt ?? createdAt,
      variantIds: [],
    };
    this.products.set(product);
    const variants = input.variants?.length ? input.variants : [{ title: 'Default Title' }];
    variants.forEach((variant, index) => {
      this.addVariant(product, variant, index + 1, createdAt, product.updatedAt);
    });
    return product;
  }

  private addVariant(
    product: ShopifyProduct,
    input: VariantInput,
    position: number,
    createdAt: string,
    updatedAt: string,
  ): ShopifyProductVariant {
    const n = this.nextId('ProductVariant');
    const itemN = this.nextId('InventoryItem');
    const sku = input.sku === undefined ? `SKU-${n - ID_BASES.ProductVariant}` : input.sku;
    const variant: ShopifyProductVariant = {
      id: gid('ProductVariant', n),
      legacyResourceId: String(n),
      productId: product.id,
      title: input.title ?? 'Default Title',
      sku,
      price: input.price ?? '10.00',
      position,
      inventoryQuantity: 0,
      inventoryItem: { id: gid('InventoryItem', itemN) },
      createdAt,
      updatedAt,
    };
    this.variants.set(variant);
    product.variantIds.push(variant.id);
    this.inventoryItems.set({
      id: variant.inventoryItem.id,
      legacyResourceId: String(itemN),
      variantId: variant.id,
      sku,
      tracked: true,
      createdAt,
      updatedAt,
    });
    const levels = new Map<string, ShopifyInventoryLevel>();
    this.inventoryLevels.set(variant.inventoryItem.id, levels);
    const primary = this.primaryLocation().id;
    for (const location of this.locations.all()) {
      const available = location.id === primary ? (input.inventoryQuantity ?? 0) : 0;
      levels.set(location.id, this.level(variant.inventoryItem.id, location.id, available, createdAt, updatedAt));
      variant.inventoryQuantity += available;
    }
    return variant;
  }

  private level(itemId: string, locationId: string, available: number, createdAt: string, updatedAt: string) {
    const n = this.nextId('InventoryLevel');
    return {
      id: `${gid('InventoryLevel', n)}?inventory_item_id=${legacyIdOf(itemId)}`,
      itemId,
      locationId,
      available,
      committed: 0,
      incoming: 0,
      createdAt,
      updatedAt,
    };
  }

  updateProduct(id: string, changes: ProductChanges): ShopifyProduct {
    const product = this.mustGet(this.products, id);
    Object.assign(product, changes);
    product.updatedAt = changes.updatedAt ?? this.stamp();
    this.products.touched();
    return product;
  }

  deleteProduct(id: string): ShopifyProduct {
    const product = this.mustGet(this.products, id);
    this.products.delete(id);
    for (const variantId of product.variantIds) {
      const variant = this.variants.get(variantId);
      this.variants.delete(variantId);
      if (variant) {
        this.inventoryItems.delete(variant.inventoryItem.id);
        this.inventoryLevels.delete(variant.inventoryItem.id);
      }
    }
    for (const collectionId of this.productCollections.get(id) ?? []) {
      const collection = this.collections.get(collectionId);
      if (collection) collection.productIds = collection.productIds.filter((p) => p !== id);
    }
    this.productCollections.delete(id);
    return product;
  }

  /** Sets the available quantity of an inventory item at a location (default the first one). */
  setInventory(inventoryItemId: string, available: number, locationId?: string): ShopifyInventoryLevel {
    const item = this.mustGet(this.inventoryItems, inventoryItemId);
    const location = locationId ?? this.primaryLocation().id;
    const levels = this.inventoryLevels.get(item.id) ?? new Map<string, ShopifyInventoryLevel>();
    this.inventoryLevels.set(item.id, levels);
    const stamp = this.stamp();
    let level = levels.get(location);
    if (!level) {
      level = this.level(item.id, location, 0, stamp, stamp);
      levels.set(location, level);
    }
    const variant = this.mustGet(this.variants, item.variantId);
    variant.inventoryQuantity += available - level.available;
    level.available = available;
    level.updatedAt = stamp;
    item.updatedAt = stamp;
    this.inventoryItems.touched();
    return level;
  }

  // --- collections -----------------------------------------------------------------------------

  addCollection(title: string, productIds: string[] = [], at?: string): ShopifyCollection {
    const n = this.nextId('Collection');
    const collection = this.collections.set({
      id: gid('Collection', n),
      legacyResourceId: String(n),
      title,
      handle: slug(title),
      sortOrder: 'BEST_SELLING',
      updatedAt: at ?? this.stamp(),
      productIds: [...productIds],
    });
    for (const productId of productIds) {
      const list = this.productCollections.get(productId) ?? [];
      list.push(collection.id);
      this.productCollections.set(productId, list);
    }
    return collection;
  }

  // --- customers -------------------------------------------------------------------------------

  addCustomer(input: CustomerInput = {}): ShopifyCustomer {
    const n = this.nextId('Customer');
    const createdAt = input.createdAt ?? this.stamp();
    return this.customers.set({
      id: gid('Customer', n),
      legacyResourceId: String(n),
      email: `customer${n - ID_BASES.Customer}@example.com`,
      firstName: 'Ada',
      lastName: 'Lovelace',
      phone: null,
      state: 'ENABLED',
      tags: [],
      ...input,
      createdAt,
      updatedAt: input.updatedAt ?? createdAt,
    });
  }

  updateCustomer(id: string, changes: CustomerInput): ShopifyCustomer {
    const customer = this.mustGet(this.customers, id);
    Object.assign(customer, changes);
    customer.updatedAt = changes.updatedAt ?? this.stamp();
    this.customers.touched();
    return customer;
  }

  deleteCustomer(id: string): ShopifyCustomer {
    const customer = this.mustGet(this.customers, id);
    if (this.customerOrders.get(id)?.length)
      throw new Error(`shopify-server: customer ${id} has orders; Shopify does not delete such customers`);
    this.customers.delete(id);
    this.customerOrders.delete(id);
    return customer;
  }

  // --- orders ----------------------------------------------------------------------------------

  addOrder(input: OrderInput = {}): ShopifyOrder {
    const n = this.nextId('Order');
    const createdAt = input.createdAt ?? this.stamp();
    const currency = input.currencyCode ?? this.currencyCode;
    const lineItems: ShopifyLineItem[] = (input.lineItems ?? [{}]).map((line) => {
      const variant = line.variantId ? this.variants.get(line.variantId) : undefined;
      const price = line.price ?? variant?.price ?? '10.00';
      const product = variant ? this.products.get(variant.productId) : undefined;
      return {
        id: gid('LineItem', this.nextId('LineItem')),
        title: line.title ?? product?.title ?? 'Custom item',
        quantity: line.quantity ?? 1,
        sku: line.sku ?? variant?.sku ?? null,
        variantId: variant?.id ?? null,
        productId: variant?.productId ?? null,
        originalUnitPriceSet: money(price, currency),
      };
    });
    const subtotal = lineItems
      .reduce((sum, line) => sum + Number(line.originalUnitPriceSet.shopMoney.amount) * line.quantity, 0)
      .toFixed(2);
    const customer = input.customerId ? this.mustGet(this.customers, input.customerId) : null;
    const fulfillments = (input.fulfillments ?? []).map((status, index) => {
      const fn = this.nextId('Fulfillment');
      return {
        id: gid('Fulfillment', fn),
        name: `#${this.orderNumber + 1}-F${index + 1}`,
        status,
        trackingInfo: [{ company: 'UPS', number: `1Z${fn}`, url: `https://www.ups.com/track?tracknum=1Z${fn}` }],
        createdAt,
        updatedAt: createdAt,
      };
    });
    this.orderNumber += 1;
    const order: ShopifyOrder = {
      id: gid('Order', n),
      legacyResourceId: String(n),
      name: input.name ?? `#${this.orderNumber}`,
      email: input.email ?? customer?.email ?? null,
      customerId: customer?.id ?? null,
      displayFinancialStatus: input.displayFinancialStatus ?? 'PAID',
      displayFulfillmentStatus: input.displayFulfillmentStatus ?? (fulfillments.length ? 'FULFILLED' : 'UNFULFILLED'),
      currencyCode: currency,
      totalPriceSet: input.totalPriceSet ?? money(subtotal, currency),
      subtotalPriceSet: input.subtotalPriceSet ?? money(subtotal, currency),
      lineItems,
      fulfillments,
      cancelledAt: input.cancelledAt ?? null,
      closedAt: input.closedAt ?? null,
      processedAt: input.processedAt ?? createdAt,
      createdAt,
      updatedAt: input.updatedAt ?? createdAt,
    };
    this.orders.set(order);
    if (customer) {
      const list = this.customerOrders.get(customer.id) ?? [];
      list.push(order.id);
      this.customerOrders.set(customer.id, list);
    }
    return order;
  }

  updateOrder(id: string, changes: OrderChanges): ShopifyOrder {
    const order = this.mustGet(this.orders, id);
    const { fulfillments, ...rest } = changes;
    Object.assign(order, rest);
    const stamp = changes.updatedAt ?? this.stamp();
    for (const status of fulfillments ?? []) {
      const fn = this.nextId('Fulfillment');
      order.fulfillments.push({
        id: gid('Fulfillment', fn),
        name: `${order.name}-F${order.fulfillments.length + 1}`,
        status,
        trackingInfo: [],
        createdAt: stamp,
        updatedAt: stamp,
      });
    }
    order.updatedAt = stamp;
    this.orders.touched();
    return order;
  }

  deleteOrder(id: string): ShopifyOrder {
    const order = this.mustGet(this.orders, id);
    this.orders.delete(id);
    if (order.customerId) {
      const list = this.customerOrders.get(order.customerId);
      if (list)
        this.customerOrders.set(
          order.customerId,
          list.filter((o) => o !== id),
        );
    }
    return order;
  }

  // --- seeding ---------------------------------------------------------------------------------

  /**
   * Bulk-creates objects with deterministic content, timestamps spread over `spanDays` before
   * `end` (creation times ascending with the ids, updates after creation, all at whole seconds).
   */
  seed(options: SeedOptions = {}): SeedResult {
    const random = prng(options.seed ?? 1);
    const end = options.end ?? this.now();
    const span = (options.spanDays ?? 365) * 86_400_000;
    const start = end - span;
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
    /** The i-th of n creation times, evenly spread, and an update time between it and `end`. */
    const times = (i: number, n: number): [string, string] => {
      const created = start + Math.floor(((i + 0.5) / Math.max(n, 1)) * span * 0.9);
      const updated = created + Math.floor(random() * (end - created));
      return [iso(created), iso(updated)];
    };

    const locations: ShopifyLocation[] = [];
    const locationCount = options.locations ?? (this.locations.size === 0 ? 1 : 0);
    for (let i = 0; i < locationCount; i++) locations.push(this.addLocation(undefined, iso(start)));

    const productCount = options.products ?? 0;
    const variantsPer = Math.max(1, options.variantsPerProduct ?? 1);
    const products: ShopifyProduct[] = [];
    for (let i = 0; i < productCount; i++) {
      const [createdAt, updatedAt] = times(i, productCount);
      const title = `${pick(ADJECTIVES)} ${pick(NOUNS)} ${i + 1}`;
      const variants: VariantInput[] = [];
      for (let v = 0; v < variantsPer; v++) {
        variants.push({
          title: variantsPer === 1 ? 'Default Title' : (VARIANT_TITLES[v % VARIANT_TITLES.length] as string),
          price: (5 + Math.floor(random() * 9500) / 100).toFixed(2),
          inventoryQuantity: Math.floor(random() * 100),
        });
      }
      products.push(
        this.addProduct({
          title,
          status: random() < 0.9 ? 'ACTIVE' : 'DRAFT',
          vendor: pick(VENDORS),
          productType: pick(NOUNS),
          tags: random() < 0.5 ? ['sale'] : [],
          createdAt,
          updatedAt,
          variants,
        }),
      );
    }

    const collections: ShopifyCollection[] = [];
    const collectionCount = options.collections ?? 0;
    for (let c = 0; c < collectionCount; c++) {
      const members = products.filter((_, i) => i % collectionCount === c).map((p) => p.id);
      collections.push(this.addCollection(`${pick(ADJECTIVES)} collection ${c + 1}`, members, iso(end - span / 2)));
    }

    const customers: ShopifyCustomer[] = [];
    const customerCount = options.customers ?? 0;
    for (let i = 0; i < customerCount; i++) {
      const [createdAt, updatedAt] = times(i, customerCount);
      const firstName = pick(FIRST_NAMES);
      const lastName = pick(LAST_NAMES);
      customers.push(
        this.addCustomer({
          email: `${firstName}.${lastName}.${i + 1}@example.com`.toLowerCase(),
          firstName,
          lastName,
          phone: random() < 0.5 ? `+1613555${String(1000 + (i % 9000)).padStart(4, '0')}` : null,
          createdAt,
          updatedAt,
        }),
      );
    }

    const orders: ShopifyOrder[] = [];
    const orderCount = options.orders ?? 0;
    const allVariants = products.flatMap((p) => p.variantIds);
    const linesMax = Math.max(1, options.lineItemsPerOrder ?? 3);
    for (let i = 0; i < orderCount; i++) {
      const [createdAt, updatedAt] = times(i, orderCount);
      const lineCount = 1 + Math.floor(random() * linesMax);
      const lineItems = Array.from({ length: lineCount }, () => ({
        variantId: allVariants.length ? pick(allVariants) : null,
        quantity: 1 + Math.floor(random() * 3),
      }));
      const fulfilled = random() < 0.6;
      orders.push(
        this.addOrder({
          customerId: customers.length ? pick(customers).id : null,
          lineItems,
          fulfillments: fulfilled ? ['SUCCESS'] : [],
          displayFinancialStatus: random() < 0.9 ? 'PAID' : 'PENDING',
          createdAt,
          updatedAt,
        }),
      );
    }
    return { products, customers, orders, collections, locations };
  }

  mustGet<T extends { id: string }>(table: Table<T>, id: string): T {
    const record = table.get(id);
    if (!record) throw new Error(`shopify-server: no ${id}`);
    return record;
  }
}
