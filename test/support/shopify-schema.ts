/**
 * The GraphQL schema of the Shopify stand-in: a faithful subset of the Admin GraphQL API (same type,
 * field, argument and enum names; connections with `edges`/`nodes`/`pageInfo`, `first`/`after`/
 * `last`/`before`/`reverse`/`sortKey`/`query`), and its resolvers over a `ShopStore`.
 */
import { GraphQLError } from 'graphql';
import { createSchema } from 'graphql-yoga';
import {
  compareKeys,
  legacyIdOf,
  parseGid,
  type ShopifyCollection,
  type ShopifyCustomer,
  type ShopifyFulfillment,
  type ShopifyInventoryItem,
  type ShopifyInventoryLevel,
  type ShopifyLineItem,
  type ShopifyLocation,
  type ShopifyOrder,
  type ShopifyProduct,
  type ShopifyProductVariant,
  type ShopStore,
  type SortedView,
  type SortValue,
  type Table,
} from './shopify-store.ts';

export const MAX_PAGE_SIZE = 250;

const CONNECTION_ARGS = 'first: Int, after: String, last: Int, before: String, reverse: Boolean = false';

export const typeDefs = /* GraphQL */ `
  scalar DateTime
  scalar URL
  scalar HTML
  scalar Decimal
  scalar Money
  scalar UnsignedInt64

  interface Node { id: ID! }

  type PageInfo { hasNextPage: Boolean! hasPreviousPage: Boolean! startCursor: String endCursor: String }

  enum CurrencyCode { USD EUR GBP CAD AUD JPY }
  enum CountPrecision { EXACT AT_LEAST }
  type Count { count: Int! precision: CountPrecision! }
  type MoneyV2 { amount: Decimal! currencyCode: CurrencyCode! }
  type MoneyBag { shopMoney: MoneyV2! presentmentMoney: MoneyV2! }

  type Shop implements Node {
    id: ID!
    name: String!
    email: String!
    myshopifyDomain: String!
    url: URL!
    currencyCode: CurrencyCode!
    ianaTimezone: String!
  }

  enum ProductStatus { ACTIVE ARCHIVED DRAFT }
  enum ProductSortKeys { ID TITLE UPDATED_AT CREATED_AT PRODUCT_TYPE VENDOR INVENTORY_TOTAL RELEVANCE PUBLISHED_AT }
  enum ProductVariantSortKeys { ID POSITION SKU TITLE INVENTORY_QUANTITY NAME RELEVANCE }
  enum CollectionSortKeys { ID TITLE UPDATED_AT RELEVANCE }
  enum CustomerSortKeys { ID NAME CREATED_AT UPDATED_AT LOCATION RELEVANCE }
  enum OrderSortKeys { ID CREATED_AT UPDATED_AT PROCESSED_AT ORDER_NUMBER TOTAL_PRICE CUSTOMER_NAME RELEVANCE }
  enum LocationSortKeys { ID NAME RELEVANCE }
  enum OrderDisplayFinancialStatus { PAID PENDING REFUNDED AUTHORIZED PARTIALLY_PAID VOIDED }
  enum OrderDisplayFulfillmentStatus { FULFILLED UNFULFILLED PARTIALLY_FULFILLED }
  enum FulfillmentStatus { SUCCESS CANCELLED ERROR FAILURE OPEN PENDING }
  enum CustomerState { DISABLED ENABLED INVITED DECLINED }

  type Product implements Node {
    id: ID!
    legacyResourceId: UnsignedInt64!
    title: String!
    handle: String!
    status: ProductStatus!
    vendor: String!
    productType: String!
    tags: [String!]!
    descriptionHtml: HTML!
    createdAt: DateTime!
    updatedAt: DateTime!
    totalInventory: Int!
    variantsCount: Count
    variants(${CONNECTION_ARGS}, sortKey: ProductVariantSortKeys = POSITION): ProductVariantConnection!
    collections(${CONNECTION_ARGS}, sortKey: CollectionSortKeys = ID, query: String): CollectionConnection!
  }
  type ProductEdge { cursor: String! node: Product! }
  type ProductConnection { edges: [ProductEdge!]! nodes: [Product!]! pageInfo: PageInfo! }

  type ProductVariant implements Node {
    id: ID!
    legacyResourceId: UnsignedInt64!
    title: String!
    displayName: String!
    sku: String
    price: Money!
    position: Int!
    inventoryQuantity: Int
    inventoryItem: InventoryItem!
    product: Product!
    createdAt: DateTime!
    updatedAt: DateTime!
  }
  type ProductVariantEdge { cursor: String! node: ProductVariant! }
  type ProductVariantConnection { edges: [ProductVariantEdge!]! nodes: [ProductVariant!]! pageInfo: PageInfo! }

  type InventoryItem implements Node {
    id: ID!
    legacyResourceId: UnsignedInt64!
    sku: String
    tracked: Boolean!
    createdAt: DateTime!
    updatedAt: DateTime!
    variant: ProductVariant!
    inventoryLevel(locationId: ID!): InventoryLevel
    inventoryLevels(${CONNECTION_ARGS}, query: String): InventoryLevelConnection!
  }
  type InventoryItemEdge { cursor: String! node: InventoryItem! }
  type InventoryItemConnection { edges: [InventoryItemEdge!]! nodes: [InventoryItem!]! pageInfo: PageInfo! }

  type InventoryQuantity { id: ID! name: String! quantity: Int! updatedAt: DateTime }
  type InventoryLevel implements Node {
    id: ID!
    item: InventoryItem!
    location: Location!
    quantities(names: [String!]!): [InventoryQuantity!]!
    createdAt: DateTime!
    updatedAt: DateTime!
  }
  type InventoryLevelEdge { cursor: String! node: InventoryLevel! }
  type InventoryLevelConnection { edges: [InventoryLevelEdge!]! nodes: [InventoryLevel!]! pageInfo: PageInfo! }

  type LocationAddress { address1: String city: String countryCode: String zip: String }
  type Location implements Node {
    id: ID!
    legacyResourceId: UnsignedInt64!
    name: String!
    isActive: Boolean!
    address: LocationAddress!
    createdAt: DateTime!
    updatedAt: DateTime!
    inventoryLevels(${CONNECTION_ARGS}, query: String): InventoryLevelConnection!
  }
  type LocationEdge { cursor: String! node: Location! }
  type LocationConnection { edges: [LocationEdge!]! nodes: [Location!]! pageInfo: PageInfo! }

  type Collection implements Node {
    id: ID!
    legacyResourceId: UnsignedInt64!
    title: String!
    handle: String!
    sortOrder: String!
    updatedAt: DateTime!
    productsCount: Count
    products(${CONNECTION_ARGS}, sortKey: ProductSortKeys = ID): ProductConnection!
  }
  type CollectionEdge { cursor: String! node: Collection! }
  type CollectionConnection { edges: [CollectionEdge!]! nodes: [Collection!]! pageInfo: PageInfo! }

  type CustomerEmailAddress { emailAddress: String! }
  type CustomerPhoneNumber { phoneNumber: String! }
  type Customer implements Node {
    id: ID!
    legacyResourceId: UnsignedInt64!
    email: String
    phone: String
    firstName: String
    lastName: String
    displayName: String!
    defaultEmailAddress: CustomerEmailAddress
    defaultPhoneNumber: CustomerPhoneNumber
    state: CustomerState!
    tags: [String!]!
    numberOfOrders: UnsignedInt64!
    amountSpent: MoneyV2!
    createdAt: DateTime!
    updatedAt: DateTime!
    orders(${CONNECTION_ARGS}, sortKey: OrderSortKeys = ID, query: String): OrderConnection!
  }
  type CustomerEdge { cursor: String! node: Customer! }
  type CustomerConnection { edges: [CustomerEdge!]! nodes: [Customer!]! pageInfo: PageInfo! }

  type LineItem implements Node {
    id: ID!
    title: String!
    quantity: Int!
    sku: String
    variant: ProductVariant
    product: Product
    originalUnitPriceSet: MoneyBag!
  }
  type LineItemEdge { cursor: String! node: LineItem! }
  type LineItemConnection { edges: [LineItemEdge!]! nodes: [LineItem!]! pageInfo: PageInfo! }

  type FulfillmentTrackingInfo { company: String number: String url: URL }
  type Fulfillment implements Node {
    id: ID!
    name: String!
    status: FulfillmentStatus!
    trackingInfo(first: Int): [FulfillmentTrackingInfo!]!
    createdAt: DateTime!
    updatedAt: DateTime!
  }

  type Order implements Node {
    id: ID!
    legacyResourceId: UnsignedInt64!
    name: String!
    email: String
    customer: Customer
    displayFinancialStatus: OrderDisplayFinancialStatus
    displayFulfillmentStatus: OrderDisplayFulfillmentStatus!
    currencyCode: CurrencyCode!
    totalPriceSet: MoneyBag!
    subtotalPriceSet: MoneyBag
    cancelledAt: DateTime
    closedAt: DateTime
    processedAt: DateTime!
    createdAt: DateTime!
    updatedAt: DateTime!
    lineItems(${CONNECTION_ARGS}): LineItemConnection!
    fulfillments(first: Int): [Fulfillment!]!
  }
  type OrderEdge { cursor: String! node: Order! }
  type OrderConnection { edges: [OrderEdge!]! nodes: [Order!]! pageInfo: PageInfo! }

  enum BulkOperationStatus { CANCELED CANCELING COMPLETED CREATED EXPIRED FAILED RUNNING }
  enum BulkOperationType { QUERY MUTATION }
  enum BulkOperationErrorCode { ACCESS_DENIED INTERNAL_SERVER_ERROR TIMEOUT }
  enum BulkOperationUserErrorCode { INVALID OPERATION_IN_PROGRESS }
  type BulkOperation implements Node {
    id: ID!
    status: BulkOperationStatus!
    type: BulkOperationType!
    errorCode: BulkOperationErrorCode
    createdAt: DateTime!
    completedAt: DateTime
    objectCount: UnsignedInt64!
    rootObjectCount: UnsignedInt64!
    fileSize: UnsignedInt64
    url: URL
    partialDataUrl: URL
    query: String!
  }
  type BulkOperationUserError { field: [String!] message: String! code: BulkOperationUserErrorCode }
  type BulkOperationRunQueryPayload { bulkOperation: BulkOperation userErrors: [BulkOperationUserError!]! }
  type BulkOperationCancelPayload { bulkOperation: BulkOperation userErrors: [UserError!]! }

  # As Shopify's, without the compliance topics (customers/data_request, customers/redact,
  # shop/redact): an app subscribes to those in its configuration, not through the API.
  enum WebhookSubscriptionTopic {
    BULK_OPERATIONS_FINISH
    PRODUCTS_CREATE PRODUCTS_UPDATE PRODUCTS_DELETE
    COLLECTIONS_CREATE COLLECTIONS_UPDATE COLLECTIONS_DELETE
    CUSTOMERS_CREATE CUSTOMERS_UPDATE CUSTOMERS_DELETE
    ORDERS_CREATE ORDERS_UPDATED ORDERS_PAID ORDERS_CANCELLED ORDERS_FULFILLED ORDERS_DELETE
    FULFILLMENTS_CREATE FULFILLMENTS_UPDATE
    INVENTORY_ITEMS_CREATE INVENTORY_ITEMS_UPDATE INVENTORY_ITEMS_DELETE
    INVENTORY_LEVELS_CONNECT INVENTORY_LEVELS_UPDATE INVENTORY_LEVELS_DISCONNECT
    LOCATIONS_CREATE LOCATIONS_UPDATE LOCATIONS_DELETE LOCATIONS_ACTIVATE LOCATIONS_DEACTIVATE
    SHOP_UPDATE APP_UNINSTALLED
  }
  enum WebhookSubscriptionFormat { JSON XML }
  type WebhookHttpEndpoint { callbackUrl: URL! }
  union WebhookSubscriptionEndpoint = WebhookHttpEndpoint
  type WebhookSubscription implements Node {
    id: ID!
    topic: WebhookSubscriptionTopic!
    format: WebhookSubscriptionFormat!
    callbackUrl: URL!
    uri: String!
    endpoint: WebhookSubscriptionEndpoint!
    includeFields: [String!]!
    createdAt: DateTime!
    updatedAt: DateTime!
  }
  type WebhookSubscriptionEdge { cursor: String! node: WebhookSubscription! }
  type WebhookSubscriptionConnection { edges: [WebhookSubscriptionEdge!]! nodes: [WebhookSubscription!]! pageInfo: PageInfo! }
  input WebhookSubscriptionInput { callbackUrl: URL uri: String format: WebhookSubscriptionFormat = JSON includeFields: [String!] }
  type UserError { field: [String!] message: String! }
  type WebhookSubscriptionCreatePayload { webhookSubscription: WebhookSubscription userErrors: [UserError!]! }
  type WebhookSubscriptionDeletePayload { deletedWebhookSubscriptionId: ID userErrors: [UserError!]! }

  type QueryRoot {
    shop: Shop!
    node(id: ID!): Node
    nodes(ids: [ID!]!): [Node]!
    products(${CONNECTION_ARGS}, sortKey: ProductSortKeys = ID, query: String): ProductConnection!
    product(id: ID!): Product
    productsCount(query: String, limit: Int = 10000): Count
    productVariants(${CONNECTION_ARGS}, sortKey: ProductVariantSortKeys = ID, query: String): ProductVariantConnection!
    productVariant(id: ID!): ProductVariant
    inventoryItems(${CONNECTION_ARGS}, query: String): InventoryItemConnection!
    inventoryItem(id: ID!): InventoryItem
    locations(${CONNECTION_ARGS}, sortKey: LocationSortKeys = NAME, query: String, includeInactive: Boolean = false): LocationConnection!
    location(id: ID): Location
    collections(${CONNECTION_ARGS}, sortKey: CollectionSortKeys = ID, query: String): CollectionConnection!
    collection(id: ID!): Collection
    customers(${CONNECTION_ARGS}, sortKey: CustomerSortKeys = ID, query: String): CustomerConnection!
    customer(id: ID!): Customer
    customersCount(query: String, limit: Int = 10000): Count
    orders(${CONNECTION_ARGS}, sortKey: OrderSortKeys = PROCESSED_AT, query: String): OrderConnection!
    order(id: ID!): Order
    ordersCount(query: String, limit: Int = 10000): Count
    currentBulkOperation(type: BulkOperationType = QUERY): BulkOperation
    webhookSubscriptions(${CONNECTION_ARGS}, topics: [WebhookSubscriptionTopic!], callbackUrl: URL): WebhookSubscriptionConnection!
    webhookSubscription(id: ID!): WebhookSubscription
  }

  type Mutation {
    bulkOperationRunQuery(query: String!, groupObjects: Boolean = false): BulkOperationRunQueryPayload
    bulkOperationCancel(id: ID!): BulkOperationCancelPayload
    webhookSubscriptionCreate(topic: WebhookSubscriptionTopic!, webhookSubscription: WebhookSubscriptionInput!): WebhookSubscriptionCreatePayload
    webhookSubscriptionDelete(id: ID!): WebhookSubscriptionDeletePayload
  }

  schema { query: QueryRoot mutation: Mutation }
`;

// ---------------------------------------------------------------------------------------------
// What resolvers need from the server
// ---------------------------------------------------------------------------------------------

export type BulkOperationStatus = 'CANCELED' | 'CANCELING' | 'COMPLETED' | 'CREATED' | 'EXPIRED' | 'FAILED' | 'RUNNING';

export interface BulkOperationRecord {
  id: string;
  status: BulkOperationStatus;
  type: 'QUERY' | 'MUTATION';
  errorCode: 'ACCESS_DENIED' | 'INTERNAL_SERVER_ERROR' | 'TIMEOUT' | null;
  createdAt: string;
  completedAt: string | null;
  /** When it reached its final status (its file written), in epoch ms; `completedAt` is Shopify's, to the second. */
  finishedMs: number | null;
  objectCount: string;
  rootObjectCount: string;
  fileSize: string | null;
  url: string | null;
  partialDataUrl: string | null;
  query: string;
}

export interface WebhookSubscriptionRecord {
  id: string;
  topic: string;
  format: 'JSON' | 'XML';
  callbackUrl: string;
  uri: string;
  includeFields: string[];
  createdAt: string;
  updatedAt: string;
}

export interface ShopIdentity {
  id: string;
  name: string;
  email: string;
  myshopifyDomain: string;
}

/** The GraphQL context: one shop, and what the mutations act on. */
export interface ShopContext {
  shop: ShopIdentity;
  store: ShopStore;
  /** Inside a bulk operation, connections list every record and need no `first`. */
  bulk: boolean;
  /** Search warnings, answered in `extensions.search` as Shopify does. */
  searchWarnings: SearchReport[];
  /** The access scopes of the request's token (`null`: every scope, as for the default token). */
  scopes: ReadonlySet<string> | null;
  bulkOperations: Table<BulkOperationRecord>;
  webhookSubscriptions: Table<WebhookSubscriptionRecord>;
  runBulkQuery(query: string): { bulkOperation: BulkOperationRecord | null; userErrors: BulkUserError[] };
  cancelBulkOperation(id: string): { bulkOperation: BulkOperationRecord | null; userErrors: UserError[] };
  currentBulkOperation(): BulkOperationRecord | null;
  createWebhookSubscription(
    topic: string,
    input: {
      callbackUrl?: string | null;
      uri?: string | null;
      format?: 'JSON' | 'XML';
      includeFields?: string[] | null;
    },
  ): { webhookSubscription: WebhookSubscriptionRecord | null; userErrors: UserError[] };
  deleteWebhookSubscription(id: string): { deletedWebhookSubscriptionId: string | null; userErrors: UserError[] };
}

export interface UserError {
  field: string[] | null;
  message: string;
}

export interface BulkUserError extends UserError {
  code: 'INVALID' | 'OPERATION_IN_PROGRESS' | null;
}

export interface SearchReport {
  path: string[];
  query: string;
  parsed: unknown;
  warnings: { field: string; message: string; code: string }[];
}

// ---------------------------------------------------------------------------------------------
// Connections
// ---------------------------------------------------------------------------------------------

export interface ConnectionArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
  reverse?: boolean | null;
  sortKey?: string | null;
  query?: string | null;
}

interface Edge<T> {
  cursor: string;
  node: T;
}

export interface Connection<T> {
  edges: Edge<T>[];
  nodes: T[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}

const inputError = (message: string, code = 'BAD_USER_INPUT'): GraphQLError =>
  new GraphQLError(message, { extensions: { code } });

/** Shopify's cursors: base64 of `{"last_id":…,"last_value":…}`. */
export const encodeCursor = (id: number, value: SortValue): string =>
  Buffer.from(JSON.stringify({ last_id: id, last_value: value })).toString('base64');

function decodeCursor(cursor: string): { id: number; value: SortValue } {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64').toString('utf8')) as {
      last_id?: unknown;
      last_value?: unknown;
    };
    if (
      typeof parsed.last_id === 'number' &&
      (typeof parsed.last_value === 'number' || typeof parsed.last_value === 'string')
    )
      return { id: parsed.last_id, value: parsed.last_value };
  } catch {
    // falls through to the error below
  }
  throw inputError(`Invalid cursor for current pagination sort.`);
}

/** The first index whose (value, id) is greater than the cursor's (`strict`) or not below it. */
function upperBound(view: SortedView<unknown>, value: SortValue, id: number): number {
  let lo = 0;
  let hi = view.records.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareKeys(view.values[mid] as SortValue, view.ids[mid] as number, value, id) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * One page of a sorted view, as Shopify pages: `first`/`after` forwards, `last`/`before` backwards,
 * `reverse` flips the order, `filter` keeps matching records (scanned lazily, so a page costs the
 * records it skips and returns, not the table).
 */
export function paginate<T>(
  view: SortedView<T>,
  args: ConnectionArgs,
  bulk: boolean,
  filter: ((record: T) => boolean) | null = null,
): Connection<T> {
  const { first, last, after, before } = args;
  if (!bulk) {
    if (first == null && last == null) throw inputError('you must provide one of first or last');
    if (first != null && last != null) throw inputError('providing both first and last is not supported');
    const size = (first ?? last) as number;
    if (size < 0) throw inputError(`${first != null ? 'first' : 'last'} must be greater than or equal to 0`);
    if (size > MAX_PAGE_SIZE)
      throw inputError(
        `The requested page size (${size}) exceeds the maximum of ${MAX_PAGE_SIZE} for '${first != null ? 'first' : 'last'}'.`,
      );
  }
  const reverse = args.reverse === true;
  const n = view.records.length;
  // Positions in display order: display index i maps to view index i (or n-1-i when reversed).
  const at = (i: number): number => (reverse ? n - 1 - i : i);
  const displayIndexAfter = (cursor: string): number => {
    const { id, value } = decodeCursor(cursor);
    const bound = upperBound(view, value, id);
    // Ascending: the first record above the cursor. Reversed: the first record below it.
    if (!reverse) return bound;
    let below = bound - 1;
    if (below >= 0 && view.ids[below] === id && view.values[below] === value) below -= 1;
    return n - 1 - below;
  };
  let start = 0;
  let end = n;
  if (after) start = displayIndexAfter(after);
  if (before) {
    // The display index of the cursor's record (or where it would be), exclusive.
    const { id, value } = decodeCursor(before);
    const bound = upperBound(view, value, id);
    if (!reverse) {
      const exact = bound > 0 && view.ids[bound - 1] === id && view.values[bound - 1] === value;
      end = exact ? bound - 1 : bound;
    } else end = n - bound;
  }
  // Bulk operations read whole connections: Shopify ignores their page sizes.
  const limit = bulk ? Number.POSITIVE_INFINITY : ((first ?? last) as number);
  const picked: number[] = [];
  let more = false;
  if (last != null && first == null && !bulk) {
    for (let i = end - 1; i >= start; i--) {
      if (filter && !filter(view.records[at(i)] as T)) continue;
      if (picked.length === limit) {
        more = true;
        break;
      }
      picked.push(at(i));
    }
    picked.reverse();
  } else {
    for (let i = start; i < end; i++) {
      if (filter && !filter(view.records[at(i)] as T)) continue;
      if (picked.length === limit) {
        more = true;
        break;
      }
      picked.push(at(i));
    }
  }
  const edges = picked.map((index) => ({
    cursor: encodeCursor(view.ids[index] as number, view.values[index] as SortValue),
    node: view.records[index] as T,
  }));
  return {
    edges,
    nodes: edges.map((edge) => edge.node),
    pageInfo: {
      hasNextPage: last != null && first == null ? before != null && end < n : more,
      hasPreviousPage: last != null && first == null ? more : after != null && start > 0,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges[edges.length - 1]?.cursor ?? null,
    },
  };
}

/** A sorted view of a small list (a product's variants, an order's lines), made per request. */
function viewOf<T extends { id: string }>(records: T[], key: (record: T) => SortValue): SortedView<T> {
  const rows = records.map((record) => ({ record, value: key(record), id: legacyIdOf(record.id) }));
  rows.sort((a, b) => compareKeys(a.value, a.id, b.value, b.id));
  return { records: rows.map((r) => r.record), values: rows.map((r) => r.value), ids: rows.map((r) => r.id) };
}

// ---------------------------------------------------------------------------------------------
// Search syntax (`query:`)
// ---------------------------------------------------------------------------------------------

type FieldKind = 'time' | 'number' | 'text' | 'keyword';

interface SearchField<T> {
  kind: FieldKind;
  get: (record: T) => string | number | null | string[];
}

interface Term {
  field: string | null;
  comparator: '>' | '>=' | '<' | '<=' | ':';
  value: string;
  negated: boolean;
}

const TERM = /(-)?(?:([A-Za-z_]+):(>=|<=|>|<)?)?("[^"]*"|'[^']*'|[^\s()]+)/g;

function parseSearch(query: string): Term[] {
  const terms: Term[] = [];
  for (const match of query.matchAll(TERM)) {
    const [, negated, field, comparator, rawValue] = match;
    const value = (rawValue as string).replace(/^(['"])(.*)\1$/, '$2');
    if (!field && (value === 'AND' || value === 'and')) continue;
    terms.push({
      field: field ? field.toLowerCase() : null,
      comparator: (comparator as Term['comparator'] | undefined) ?? ':',
      value,
      negated: negated === '-',
    });
  }
  return terms;
}

function compileSearch<T>(
  query: string | null | undefined,
  fields: Record<string, SearchField<T>>,
  text: (record: T) => string,
  path: string[],
  reports: SearchReport[],
): ((record: T) => boolean) | null {
  if (!query?.trim()) return null;
  const warnings: SearchReport['warnings'] = [];
  const tests: ((record: T) => boolean)[] = [];
  for (const term of parseSearch(query)) {
    if (term.field === null) {
      if (term.value === 'OR') {
        warnings.push({ field: 'OR', message: 'OR is not supported by this stand-in.', code: 'unsupported' });
        continue;
      }
      const needle = term.value.toLowerCase();
      const test = (record: T) => text(record).toLowerCase().includes(needle);
      tests.push(term.negated ? (r) => !test(r) : test);
      continue;
    }
    const field = fields[term.field];
    if (!field) {
      warnings.push({ field: term.field, message: 'Invalid search field for this query.', code: 'invalid_field' });
      continue;
    }
    const test = fieldTest(field, term);
    if (!test) {
      warnings.push({ field: term.field, message: `Invalid value: ${term.value}`, code: 'invalid_value' });
      continue;
    }
    tests.push(term.negated ? (r) => !test(r) : test);
  }
  if (warnings.length) reports.push({ path, query, parsed: { terms: parseSearch(query) }, warnings });
  if (tests.length === 0) return null;
  return (record) => tests.every((test) => test(record));
}

function fieldTest<T>(field: SearchField<T>, term: Term): ((record: T) => boolean) | null {
  const compare = (a: number, b: number): boolean => {
    switch (term.comparator) {
      case '>':
        return a > b;
      case '>=':
        return a >= b;
      case '<':
        return a < b;
      case '<=':
        return a <= b;
      default:
        return a === b;
    }
  };
  if (field.kind === 'time') {
    const bound = Date.parse(term.value);
    if (Number.isNaN(bound)) return null;
    return (record) => {
      const value = field.get(record);
      return typeof value === 'string' && compare(Date.parse(value), bound);
    };
  }
  if (field.kind === 'number') {
    const bound = Number(term.value);
    if (Number.isNaN(bound)) return null;
    return (record) => {
      const value = field.get(record);
      return value !== null && compare(Number(value), bound);
    };
  }
  const needle = term.value.toLowerCase();
  return (record) => {
    const value = field.get(record);
    if (Array.isArray(value)) return value.some((v) => v.toLowerCase() === needle);
    if (value === null || value === undefined) return false;
    const text = String(value).toLowerCase();
    if (field.kind === 'keyword') return text === needle;
    return needle.endsWith('*') ? text.startsWith(needle.slice(0, -1)) : text.includes(needle);
  };
}

const timeField = <T>(get: (record: T) => string | null): SearchField<T> => ({ kind: 'time', get });
const idField = <T extends { id: string }>(): SearchField<T> => ({ kind: 'number', get: (r) => legacyIdOf(r.id) });

// ---------------------------------------------------------------------------------------------
// Resources: sort keys and search fields per root connection
// ---------------------------------------------------------------------------------------------

interface Resource<T extends { id: string }> {
  table: (store: ShopStore) => Table<T>;
  sortKeys: Record<string, (record: T) => SortValue>;
  fields: Record<string, SearchField<T>>;
  text: (record: T) => string;
}

const byId = <T extends { id: string }>(record: T): SortValue => legacyIdOf(record.id);

const productResource: Resource<ShopifyProduct> = {
  table: (store) => store.products,
  sortKeys: {
    ID: byId,
    RELEVANCE: byId,
    TITLE: (p) => p.title.toLowerCase(),
    UPDATED_AT: (p) => p.updatedAt,
    CREATED_AT: (p) => p.createdAt,
    PUBLISHED_AT: (p) => p.createdAt,
    PRODUCT_TYPE: (p) => p.productType,
    VENDOR: (p) => p.vendor,
  },
  fields: {
    id: idField(),
    updated_at: timeField((p) => p.updatedAt),
    created_at: timeField((p) => p.createdAt),
    title: { kind: 'text', get: (p) => p.title },
    handle: { kind: 'keyword', get: (p) => p.handle },
    status: { kind: 'keyword', get: (p) => p.status },
    vendor: { kind: 'keyword', get: (p) => p.vendor },
    product_type: { kind: 'keyword', get: (p) => p.productType },
    tag: { kind: 'keyword', get: (p) => p.tags },
  },
  text: (p) => `${p.title} ${p.vendor} ${p.productType} ${p.tags.join(' ')}`,
};

const variantResource: Resource<ShopifyProductVariant> = {
  table: (store) => store.variants,
  sortKeys: { ID: byId, RELEVANCE: byId, POSITION: (v) => v.position, SKU: (v) => v.sku ?? '', TITLE: (v) => v.title },
  fields: {
    id: idField(),
    updated_at: timeField((v) => v.updatedAt),
    created_at: timeField((v) => v.createdAt),
    sku: { kind: 'keyword', get: (v) => v.sku },
    product_id: { kind: 'number', get: (v) => legacyIdOf(v.productId) },
    title: { kind: 'text', get: (v) => v.title },
  },
  text: (v) => `${v.title} ${v.sku ?? ''}`,
};

const inventoryItemResource: Resource<ShopifyInventoryItem> = {
  table: (store) => store.inventoryItems,
  sortKeys: { ID: byId },
  fields: {
    id: idField(),
    updated_at: timeField((i) => i.updatedAt),
    created_at: timeField((i) => i.createdAt),
    sku: { kind: 'keyword', get: (i) => i.sku },
  },
  text: (i) => i.sku ?? '',
};

const locationResource: Resource<ShopifyLocation> = {
  table: (store) => store.locations,
  sortKeys: { ID: byId, RELEVANCE: byId, NAME: (l) => l.name.toLowerCase() },
  fields: {
    id: idField(),
    name: { kind: 'text', get: (l) => l.name },
    created_at: timeField((l) => l.createdAt),
    updated_at: timeField((l) => l.updatedAt),
  },
  text: (l) => l.name,
};

const collectionResource: Resource<ShopifyCollection> = {
  table: (store) => store.collections,
  sortKeys: { ID: byId, RELEVANCE: byId, TITLE: (c) => c.title.toLowerCase(), UPDATED_AT: (c) => c.updatedAt },
  fields: {
    id: idField(),
    title: { kind: 'text', get: (c) => c.title },
    handle: { kind: 'keyword', get: (c) => c.handle },
    updated_at: timeField((c) => c.updatedAt),
  },
  text: (c) => c.title,
};

const customerResource: Resource<ShopifyCustomer> = {
  table: (store) => store.customers,
  sortKeys: {
    ID: byId,
    RELEVANCE: byId,
    NAME: (c) => `${c.firstName ?? ''} ${c.lastName ?? ''}`.toLowerCase(),
    CREATED_AT: (c) => c.createdAt,
    UPDATED_AT: (c) => c.updatedAt,
    LOCATION: byId,
  },
  fields: {
    id: idField(),
    updated_at: timeField((c) => c.updatedAt),
    created_at: timeField((c) => c.createdAt),
    email: { kind: 'keyword', get: (c) => c.email },
    phone: { kind: 'keyword', get: (c) => c.phone },
    first_name: { kind: 'text', get: (c) => c.firstName },
    last_name: { kind: 'text', get: (c) => c.lastName },
    state: { kind: 'keyword', get: (c) => c.state },
    tag: { kind: 'keyword', get: (c) => c.tags },
  },
  text: (c) => `${c.firstName ?? ''} ${c.lastName ?? ''} ${c.email ?? ''}`,
};

const orderResource: Resource<ShopifyOrder> = {
  table: (store) => store.orders,
  sortKeys: {
    ID: byId,
    RELEVANCE: byId,
    CREATED_AT: (o) => o.createdAt,
    UPDATED_AT: (o) => o.updatedAt,
    PROCESSED_AT: (o) => o.processedAt,
    ORDER_NUMBER: byId,
    TOTAL_PRICE: (o) => Number(o.totalPriceSet.shopMoney.amount),
    CUSTOMER_NAME: (o) => o.email ?? '',
  },
  fields: {
    id: idField(),
    updated_at: timeField((o) => o.updatedAt),
    created_at: timeField((o) => o.createdAt),
    processed_at: timeField((o) => o.processedAt),
    name: { kind: 'keyword', get: (o) => o.name },
    email: { kind: 'keyword', get: (o) => o.email },
    customer_id: { kind: 'number', get: (o) => (o.customerId ? legacyIdOf(o.customerId) : null) },
    financial_status: { kind: 'keyword', get: (o) => o.displayFinancialStatus },
    fulfillment_status: { kind: 'keyword', get: (o) => o.displayFulfillmentStatus },
  },
  text: (o) => `${o.name} ${o.email ?? ''}`,
};

function listResource<T extends { id: string }>(
  resource: Resource<T>,
  ctx: ShopContext,
  args: ConnectionArgs,
  path: string[],
  extraFilter: ((record: T) => boolean) | null = null,
): Connection<T> {
  const sortKey = args.sortKey ?? 'ID';
  const key = resource.sortKeys[sortKey] ?? resource.sortKeys.ID;
  if (!key) throw inputError(`Invalid sort key ${sortKey}`);
  const view = resource.table(ctx.store).sorted(sortKey, key);
  const search = compileSearch(args.query, resource.fields, resource.text, path, ctx.searchWarnings);
  const filter = search && extraFilter ? (r: T) => search(r) && extraFilter(r) : (search ?? extraFilter ?? null);
  return paginate(view, args, ctx.bulk, filter);
}

function countResource<T extends { id: string }>(
  resource: Resource<T>,
  ctx: ShopContext,
  args: { query?: string | null; limit?: number | null },
  path: string[],
): { count: number; precision: 'EXACT' | 'AT_LEAST' } {
  const search = compileSearch(args.query, resource.fields, resource.text, path, ctx.searchWarnings);
  const limit = args.limit ?? Number.POSITIVE_INFINITY;
  let count = 0;
  for (const record of resource.table(ctx.store).all()) {
    if (search && !search(record)) continue;
    if (count === limit) return { count, precision: 'AT_LEAST' };
    count += 1;
  }
  return { count, precision: 'EXACT' };
}

// ---------------------------------------------------------------------------------------------
// Resolvers
// ---------------------------------------------------------------------------------------------

/** The GraphQL type of a GID's record, or null when the stand-in does not serve it. */
export function typeOfGid(id: string): string | null {
  const parsed = parseGid(id);
  if (!parsed) return null;
  return parsed.kind in NODE_LOOKUPS ? parsed.kind : null;
}

type Lookup = (ctx: ShopContext, id: string) => unknown;

const NODE_LOOKUPS: Record<string, Lookup> = {
  Product: (ctx, id) => ctx.store.products.get(id),
  ProductVariant: (ctx, id) => ctx.store.variants.get(id),
  InventoryItem: (ctx, id) => ctx.store.inventoryItems.get(id),
  InventoryLevel: (ctx, id) => {
    const itemLegacy = /inventory_item_id=(\d+)/.exec(id)?.[1];
    if (!itemLegacy) return undefined;
    const levels = ctx.store.inventoryLevels.get(`gid://shopify/InventoryItem/${itemLegacy}`);
    for (const level of levels?.values() ?? []) if (level.id === id) return level;
    return undefined;
  },
  Location: (ctx, id) => ctx.store.locations.get(id),
  Collection: (ctx, id) => ctx.store.collections.get(id),
  Customer: (ctx, id) => ctx.store.customers.get(id),
  Order: (ctx, id) => ctx.store.orders.get(id),
  BulkOperation: (ctx, id) => ctx.bulkOperations.get(id),
  WebhookSubscription: (ctx, id) => ctx.webhookSubscriptions.get(id),
  Shop: (ctx, id) => (id === ctx.shop.id ? ctx.shop : undefined),
};

/** The read scope each kind of record needs (a `write_` scope implies its `read_`). */
const KIND_SCOPES: Record<string, string> = {
  Product: 'read_products',
  ProductVariant: 'read_products',
  Collection: 'read_products',
  InventoryItem: 'read_inventory',
  InventoryLevel: 'read_inventory',
  Location: 'read_locations',
  Customer: 'read_customers',
  Order: 'read_orders',
};

const FIELD_SCOPES: Record<string, string> = {
  products: 'read_products',
  product: 'read_products',
  productsCount: 'read_products',
  productVariants: 'read_products',
  productVariant: 'read_products',
  collections: 'read_products',
  collection: 'read_products',
  inventoryItems: 'read_inventory',
  inventoryItem: 'read_inventory',
  locations: 'read_locations',
  location: 'read_locations',
  customers: 'read_customers',
  customer: 'read_customers',
  customersCount: 'read_customers',
  orders: 'read_orders',
  order: 'read_orders',
  ordersCount: 'read_orders',
};

/** Shopify's answer to a token without the scope a field needs. */
function requireScope(ctx: ShopContext, scope: string | undefined, field: string): void {
  if (!scope || !ctx.scopes) return;
  if (ctx.scopes.has(scope) || ctx.scopes.has(scope.replace(/^read_/, 'write_'))) return;
  throw new GraphQLError(`Access denied for ${field} field. Required access: \`${scope}\` access scope.`, {
    extensions: {
      code: 'ACCESS_DENIED',
      documentation: 'https://shopify.dev/api/usage/access-scopes',
      requiredAccess: `\`${scope}\` access scope.`,
    },
  });
}

function lookup(ctx: ShopContext, id: string): unknown {
  const parsed = parseGid(id);
  if (!parsed) throw inputError(`Invalid global id '${id}'`, 'argumentLiteralsIncompatible');
  requireScope(ctx, KIND_SCOPES[parsed.kind], 'node');
  const find = NODE_LOOKUPS[parsed.kind];
  return find ? (find(ctx, id) ?? null) : null;
}

function expectKind(id: string, kind: string): string {
  const parsed = parseGid(id);
  if (!parsed) throw inputError(`Invalid global id '${id}'`, 'argumentLiteralsIncompatible');
  if (parsed.kind !== kind) throw inputError(`Invalid id: ${id}`, 'RESOURCE_NOT_FOUND');
  return id;
}

const QUANTITY_NAMES = new Set([
  'available',
  'committed',
  'damaged',
  'incoming',
  'on_hand',
  'quality_control',
  'reserved',
  'safety_stock',
]);

function quantityOf(level: ShopifyInventoryLevel, name: string): number {
  switch (name) {
    case 'available':
      return level.available;
    case 'committed':
      return level.committed;
    case 'incoming':
      return level.incoming;
    case 'on_hand':
      return level.available + level.committed;
    default:
      return 0;
  }
}

function levelsOfLocation(store: ShopStore, locationId: string): ShopifyInventoryLevel[] {
  const out: ShopifyInventoryLevel[] = [];
  for (const levels of store.inventoryLevels.values()) {
    const level = levels.get(locationId);
    if (level) out.push(level);
  }
  return out;
}

const levelKey = (level: ShopifyInventoryLevel): SortValue => legacyIdOf(level.id);

const levelSearchFields: Record<string, SearchField<ShopifyInventoryLevel>> = {
  updated_at: timeField((l) => l.updatedAt),
  created_at: timeField((l) => l.createdAt),
  inventory_item_id: { kind: 'number', get: (l) => legacyIdOf(l.itemId) },
  location_id: { kind: 'number', get: (l) => legacyIdOf(l.locationId) },
};

function levelConnection(levels: ShopifyInventoryLevel[], args: ConnectionArgs, ctx: ShopContext, path: string[]) {
  const filter = compileSearch(args.query, levelSearchFields, () => '', path, ctx.searchWarnings);
  return paginate(viewOf(levels, levelKey), args, ctx.bulk, filter);
}

type Args = Record<string, unknown>;
type Resolver<P> = (parent: P, args: Args & ConnectionArgs, ctx: ShopContext) => unknown;

export const resolvers = {
  Node: { __resolveType: (record: { id: string }) => typeOfGid(record.id) },
  WebhookSubscriptionEndpoint: { __resolveType: () => 'WebhookHttpEndpoint' },
  QueryRoot: {
    shop: (_: unknown, __: Args, ctx: ShopContext) => ctx.shop,
    node: (_: unknown, args: { id: string }, ctx: ShopContext) => lookup(ctx, args.id),
    nodes: (_: unknown, args: { ids: string[] }, ctx: ShopContext) => {
      if (args.ids.length > MAX_PAGE_SIZE)
        throw inputError(`The maximum number of ids is ${MAX_PAGE_SIZE}, ${args.ids.length} were given.`);
      return args.ids.map((id) => lookup(ctx, id));
    },
    products: (_: unknown, args: ConnectionArgs, ctx: ShopContext) =>
      listResource(productResource, ctx, args, ['products']),
    product: (_: unknown, args: { id: string }, ctx: ShopContext) =>
      ctx.store.products.get(expectKind(args.id, 'Product')) ?? null,
    productsCount: (_: unknown, args: Args, ctx: ShopContext) =>
      countResource(productResource, ctx, args, ['productsCount']),
    productVariants: (_: unknown, args: ConnectionArgs, ctx: ShopContext) =>
      listResource(variantResource, ctx, args, ['productVariants']),
    productVariant: (_: unknown, args: { id: string }, ctx: ShopContext) =>
      ctx.store.variants.get(expectKind(args.id, 'ProductVariant')) ?? null,
    inventoryItems: (_: unknown, args: ConnectionArgs, ctx: ShopContext) =>
      listResource(inventoryItemResource, ctx, args, ['inventoryItems']),
    inventoryItem: (_: unknown, args: { id: string }, ctx: ShopContext) =>
      ctx.store.inventoryItems.get(expectKind(args.id, 'InventoryItem')) ?? null,
    locations: (_: unknown, args: ConnectionArgs & { includeInactive?: boolean }, ctx: ShopContext) =>
      listResource(locationResource, ctx, args, ['locations'], args.includeInactive ? null : (l) => l.isActive),
    location: (_: unknown, args: { id?: string | null }, ctx: ShopContext) =>
      args.id ? (ctx.store.locations.get(expectKind(args.id, 'Location')) ?? null) : ctx.store.primaryLocation(),
    collections: (_: unknown, args: ConnectionArgs, ctx: ShopContext) =>
      listResource(collectionResource, ctx, args, ['collections']),
    collection: (_: unknown, args: { id: string }, ctx: ShopContext) =>
      ctx.store.collections.get(expectKind(args.id, 'Collection')) ?? null,
    customers: (_: unknown, args: ConnectionArgs, ctx: ShopContext) =>
      listResource(customerResource, ctx, args, ['customers']),
    customer: (_: unknown, args: { id: string }, ctx: ShopContext) =>
      ctx.store.customers.get(expectKind(args.id, 'Customer')) ?? null,
    customersCount: (_: unknown, args: Args, ctx: ShopContext) =>
      countResource(customerResource, ctx, args, ['customersCount']),
    orders: (_: unknown, args: ConnectionArgs, ctx: ShopContext) => listResource(orderResource, ctx, args, ['orders']),
    order: (_: unknown, args: { id: string }, ctx: ShopContext) =>
      ctx.store.orders.get(expectKind(args.id, 'Order')) ?? null,
    ordersCount: (_: unknown, args: Args, ctx: ShopContext) => countResource(orderResource, ctx, args, ['ordersCount']),
    currentBulkOperation: (_: unknown, args: { type?: string }, ctx: ShopContext) =>
      args.type === 'MUTATION' ? null : ctx.currentBulkOperation(),
    webhookSubscriptions: (
      _: unknown,
      args: ConnectionArgs & { topics?: string[] | null; callbackUrl?: string | null },
      ctx: ShopContext,
    ) => {
      const view = ctx.webhookSubscriptions.sorted('ID', byId);
      const topics = args.topics ? new Set(args.topics) : null;
      const filter =
        topics || args.callbackUrl
          ? (s: WebhookSubscriptionRecord) =>
              (!topics || topics.has(s.topic)) && (!args.callbackUrl || s.callbackUrl === args.callbackUrl)
          : null;
      return paginate(view, args, ctx.bulk, filter);
    },
    webhookSubscription: (_: unknown, args: { id: string }, ctx: ShopContext) =>
      ctx.webhookSubscriptions.get(args.id) ?? null,
  },
  Mutation: {
    bulkOperationRunQuery: (_: unknown, args: { query: string }, ctx: ShopContext) => ctx.runBulkQuery(args.query),
    bulkOperationCancel: (_: unknown, args: { id: string }, ctx: ShopContext) => ctx.cancelBulkOperation(args.id),
    webhookSubscriptionCreate: (
      _: unknown,
      args: { topic: string; webhookSubscription: Parameters<ShopContext['createWebhookSubscription']>[1] },
      ctx: ShopContext,
    ) => ctx.createWebhookSubscription(args.topic, args.webhookSubscription),
    webhookSubscriptionDelete: (_: unknown, args: { id: string }, ctx: ShopContext) =>
      ctx.deleteWebhookSubscription(args.id),
  },
  Product: {
    totalInventory: ((product, _, ctx) =>
      product.variantIds.reduce(
        (sum, id) => sum + (ctx.store.variants.get(id)?.inventoryQuantity ?? 0),
        0,
      )) as Resolver<ShopifyProduct>,
    variantsCount: (product: ShopifyProduct) => ({ count: product.variantIds.length, precision: 'EXACT' }),
    variants: ((product, args, ctx) => {
      const variants = product.variantIds.flatMap((id) => ctx.store.variants.get(id) ?? []);
      const key = variantResource.sortKeys[args.sortKey ?? 'POSITION'] ?? ((v: ShopifyProductVariant) => v.position);
      return paginate(viewOf(variants, key), args, ctx.bulk);
    }) as Resolver<ShopifyProduct>,
    collections: ((product, args, ctx) => {
      const collections = (ctx.store.productCollections.get(product.id) ?? []).flatMap(
        (id) => ctx.store.collections.get(id) ?? [],
      );
      const key = collectionResource.sortKeys[args.sortKey ?? 'ID'] ?? byId;
      return paginate(viewOf(collections, key), args, ctx.bulk);
    }) as Resolver<ShopifyProduct>,
  },
  ProductVariant: {
    product: ((variant, _, ctx) => ctx.store.products.get(variant.productId)) as Resolver<ShopifyProductVariant>,
    displayName: ((variant, _, ctx) =>
      `${ctx.store.products.get(variant.productId)?.title ?? ''} - ${variant.title}`) as Resolver<ShopifyProductVariant>,
    inventoryItem: ((variant, _, ctx) =>
      ctx.store.inventoryItems.get(variant.inventoryItem.id)) as Resolver<ShopifyProductVariant>,
  },
  InventoryItem: {
    variant: ((item, _, ctx) => ctx.store.variants.get(item.variantId)) as Resolver<ShopifyInventoryItem>,
    inventoryLevel: ((item, args, ctx) =>
      ctx.store.inventoryLevels.get(item.id)?.get(String(args.locationId)) ?? null) as Resolver<ShopifyInventoryItem>,
    inventoryLevels: ((item, args, ctx) =>
      levelConnection([...(ctx.store.inventoryLevels.get(item.id)?.values() ?? [])], args, ctx, [
        'inventoryLevels',
      ])) as Resolver<ShopifyInventoryItem>,
  },
  InventoryLevel: {
    item: ((level, _, ctx) => ctx.store.inventoryItems.get(level.itemId)) as Resolver<ShopifyInventoryLevel>,
    location: ((level, _, ctx) => ctx.store.locations.get(level.locationId)) as Resolver<ShopifyInventoryLevel>,
    quantities: ((level, args) => {
      const names = args.names as string[];
      const unknown = names.filter((name) => !QUANTITY_NAMES.has(name));
      if (unknown.length) throw inputError(`Invalid quantity names: ${unknown.join(', ')}`, 'INVALID');
      return names.map((name) => ({
        id: `gid://shopify/InventoryQuantity/${legacyIdOf(level.id)}?inventory_item_id=${legacyIdOf(level.itemId)}&name=${name}`,
        name,
        quantity: quantityOf(level, name),
        updatedAt: level.updatedAt,
      }));
    }) as Resolver<ShopifyInventoryLevel>,
  },
  Location: {
    inventoryLevels: ((location, args, ctx) =>
      levelConnection(levelsOfLocation(ctx.store, location.id), args, ctx, [
        'inventoryLevels',
      ])) as Resolver<ShopifyLocation>,
  },
  Collection: {
    productsCount: (collection: ShopifyCollection) => ({ count: collection.productIds.length, precision: 'EXACT' }),
    products: ((collection, args, ctx) => {
      const products = collection.productIds.flatMap((id) => ctx.store.products.get(id) ?? []);
      const key = productResource.sortKeys[args.sortKey ?? 'ID'] ?? byId;
      return paginate(viewOf(products, key), args, ctx.bulk);
    }) as Resolver<ShopifyCollection>,
  },
  Customer: {
    displayName: (c: ShopifyCustomer) =>
      [c.firstName, c.lastName].filter(Boolean).join(' ') || c.email || c.phone || 'Customer',
    defaultEmailAddress: (c: ShopifyCustomer) => (c.email ? { emailAddress: c.email } : null),
    defaultPhoneNumber: (c: ShopifyCustomer) => (c.phone ? { phoneNumber: c.phone } : null),
    numberOfOrders: ((c, _, ctx) =>
      String(ctx.store.customerOrders.get(c.id)?.length ?? 0)) as Resolver<ShopifyCustomer>,
    amountSpent: ((c, _, ctx) => {
      const total = (ctx.store.customerOrders.get(c.id) ?? []).reduce(
        (sum, id) => sum + Number(ctx.store.orders.get(id)?.totalPriceSet.shopMoney.amount ?? 0),
        0,
      );
      return { amount: total.toFixed(2), currencyCode: ctx.store.currencyCode };
    }) as Resolver<ShopifyCustomer>,
    orders: ((c, args, ctx) => {
      const orders = (ctx.store.customerOrders.get(c.id) ?? []).flatMap((id) => ctx.store.orders.get(id) ?? []);
      const key = orderResource.sortKeys[args.sortKey ?? 'ID'] ?? byId;
      const filter = compileSearch(
        args.query,
        orderResource.fields,
        orderResource.text,
        ['orders'],
        ctx.searchWarnings,
      );
      return paginate(viewOf(orders, key), args, ctx.bulk, filter);
    }) as Resolver<ShopifyCustomer>,
  },
  Order: {
    customer: ((order, _, ctx) =>
      order.customerId ? ctx.store.customers.get(order.customerId) : null) as Resolver<ShopifyOrder>,
    lineItems: ((order, args, ctx) =>
      paginate(viewOf(order.lineItems, byId), args, ctx.bulk)) as Resolver<ShopifyOrder>,
    fulfillments: ((order, args) =>
      typeof args.first === 'number'
        ? order.fulfillments.slice(0, args.first)
        : order.fulfillments) as Resolver<ShopifyOrder>,
  },
  LineItem: {
    variant: ((line, _, ctx) =>
      line.variantId ? ctx.store.variants.get(line.variantId) : null) as Resolver<ShopifyLineItem>,
    product: ((line, _, ctx) =>
      line.productId ? ctx.store.products.get(line.productId) : null) as Resolver<ShopifyLineItem>,
  },
  Fulfillment: {
    trackingInfo: ((fulfillment, args) =>
      typeof args.first === 'number'
        ? fulfillment.trackingInfo.slice(0, args.first)
        : fulfillment.trackingInfo) as Resolver<ShopifyFulfillment>,
  },
  WebhookSubscription: {
    endpoint: (s: WebhookSubscriptionRecord) => ({ callbackUrl: s.callbackUrl }),
  },
};

// Root fields check the token's scopes before resolving.
for (const [field, scope] of Object.entries(FIELD_SCOPES)) {
  const root = resolvers.QueryRoot as Record<string, (parent: unknown, args: never, ctx: ShopContext) => unknown>;
  const resolve = root[field];
  if (!resolve) throw new Error(`shopify-schema: no resolver for ${field}`);
  root[field] = (parent, args, ctx) => {
    requireScope(ctx, scope, field);
    return resolve(parent, args, ctx);
  };
}

export function buildSchema() {
  return createSchema<ShopContext>({ typeDefs, resolvers });
}
