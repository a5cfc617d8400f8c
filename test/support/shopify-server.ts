/**
 * A local stand-in for the Shopify Admin API: a node:http server answering the Admin GraphQL API
 * (a faithful subset of its schema, served by graphql-yoga) for one or more shops, with Shopify's
 * cost-based throttling, bulk operations writing JSONL files, webhook subscriptions and signed
 * deliveries, and the OAuth authorization-code grant.
 *
 *   const shopify = await startShopifyServer();
 *   shopify.seed({ products: 600, variantsPerProduct: 3, customers: 50, orders: 100 });
 *
 * ## Reaching it with the real libraries
 *
 * Both libraries build `https://<shop>/admin/api/<version>/graphql.json` themselves (they force
 * `https`), so the stand-in is reached through their fetch hook, and `shopifyFetchFor(server)`
 * returns a fetch that rewrites `https://<shop>.myshopify.com/<path>` for every shop the stand-in
 * hosts to `http://127.0.0.1:<port>/<shop>.myshopify.com/<path>` (other URLs go to `fetch`):
 *
 *   // @shopify/admin-api-client: the documented `customFetchApi` option.
 *   createAdminApiClient({ storeDomain: shopify.shopDomain, apiVersion: shopify.apiVersion,
 *     accessToken: shopify.accessToken, customFetchApi: shopifyFetchFor(shopify) });
 *
 *   // @shopify/shopify-api: the runtime adapter's fetch (`@shopify/shopify-api/runtime`), which
 *   // every client, `auth.callback` and the token exchange call; set it after importing the
 *   // node adapter, and put back `globalThis.fetch` when done.
 *   setAbstractFetchFunc(shopifyFetchFor(shopify));
 *   new api.clients.Graphql({ session }); // session.shop = shopify.shopDomain
 *
 * The shop of a request is the first path segment when it ends in `.myshopify.com` (what
 * `shopifyFetchFor` produces: undici's fetch cannot set `Host`), else the `Host` header when it
 * names a hosted shop (for clients that can set it), else the default shop.
 *
 * ## Wire format
 * - `POST /admin/api/<version>/graphql.json` with `X-Shopify-Access-Token`; a wrong or missing
 *   token answers 401 `{"errors":"[API] Invalid API key or access token (unrecognized login or
 *   wrong password)"}`, an unknown version 404.
 * - Every GraphQL answer carries `extensions.cost` (requested and actual cost, throttle status).
 *   Cost: scalars 0, objects 1, connections 2 + page size × (cost of a node), mutations 10; the
 *   actual cost counts the nodes returned. A request costing more than the bucket holds answers
 *   200 with `errors: [{ message: 'Throttled', extensions: { code: 'THROTTLED' } }]`; one costing
 *   more than the single-query limit (1000) answers MAX_COST_EXCEEDED.
 * - Connections: `first` or `last` (at most 250), `after`/`before` (Shopify's base64 JSON
 *   cursors), `reverse`, `sortKey`, `query` (Shopify's search syntax: `field:value`,
 *   `field:>value`, `>=`, `<`, `<=`, quoted values, `-` negation, free text; unknown fields are
 *   ignored with a warning in `extensions.search`).
 * - Bulk operations: `bulkOperationRunQuery` runs the query over every record (page sizes are
 *   ignored), writes JSONL (one line per node; nodes of nested connections on their own lines
 *   with `__parentId`, after their parent) and serves it, without authentication, at the
 *   operation's `url`. One operation at a time per shop; completion takes `bulkDurationMs`.
 *   Finishing POSTs `bulk_operations/finish` to the shop's subscriptions for that topic.
 * - Webhooks are signed like Shopify's (`shopifyWebhook`): base64 HMAC-SHA256 of the raw body with
 *   the app's secret in `X-Shopify-Hmac-Sha256`, and the topic, shop, API version, webhook id,
 *   event id and trigger time headers.
 * - OAuth: `GET /admin/oauth/authorize` redirects to `redirect_uri` with `code`, `hmac`, `host`,
 *   `shop`, `state`, `timestamp`; `POST /admin/oauth/access_token` (JSON or form) trades the code
 *   (once) for `{ access_token, scope }` — with `expiring: '1'` an expiring token and a refresh
 *   token, for `grant_options[]=per-user` an online token with `associated_user` — and also answers
 *   the `client_credentials` and `refresh_token` grants (as shopify-api's `auth.clientCredentials`
 *   and `auth.refreshToken` send them). Wrong client secret, code or refresh token: 400.
 * - Scopes: the shop's own token (`accessToken`) reads everything; a granted token reads what its
 *   scopes allow (`write_x` implies `read_x`), root fields and `node` lookups answer ACCESS_DENIED
 *   otherwise (nested fields are not checked).
 * - Faults and records: `failNext(count, status)` (status 0 resets the connection), `setLatency`,
 *   `requests`/`requestCount`, `stats()` per shop and overall, `uninstallApp()`.
 *
 * Not modelled: mutations other than the bulk and webhook ones, bulk mutations, the orders 60-day
 * window without `read_all_orders`, REST endpoints, token exchange of session tokens.
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  execute,
  getNamedType,
  getOperationAST,
  GraphQLError,
  isCompositeType,
  isInterfaceType,
  isObjectType,
  Kind,
  parse,
  validate,
  type DocumentNode,
  type ExecutionResult,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLSchema,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';
import { createYoga, type Plugin } from 'graphql-yoga';
import {
  buildSchema,
  type BulkOperationRecord,
  type BulkUserError,
  type ShopContext,
  type ShopIdentity,
  type UserError,
  type WebhookSubscriptionRecord,
} from './shopify-schema.ts';
import {
  gid,
  isoSeconds,
  legacyIdOf,
  ShopStore,
  Table,
  type CustomerInput,
  type OrderChanges,
  type OrderInput,
  type ProductChanges,
  type ProductInput,
  type SeedOptions,
  type SeedResult,
  type ShopifyCollection,
  type ShopifyCustomer,
  type ShopifyInventoryLevel,
  type ShopifyLocation,
  type ShopifyOrder,
  type ShopifyProduct,
} from './shopify-store.ts';

export type * from './shopify-store.ts';
export type { BulkOperationRecord, WebhookSubscriptionRecord } from './shopify-schema.ts';
export { gid, parseGid } from './shopify-store.ts';

// ---------------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------------

export interface ThrottleOptions {
  /** Points the bucket holds; default 2000 (Shopify's Advanced plan; standard plans have 1000). */
  maximumAvailable?: number;
  /** Points restored per second; default 100 (standard plans: 50). */
  restoreRate?: number;
  /** The most one query may cost; default min(1000, maximumAvailable), as Shopify's limit is 1000. */
  maxQueryCost?: number;
}

export interface ShopOptions {
  /** The access token the shop accepts (besides those minted by OAuth); default `shpat_` + 32 hex. */
  accessToken?: string;
  /** Display name; default derived from the domain. */
  name?: string;
  currencyCode?: string;
  /**
   * Added to every id the shop's objects get; default 0. Shopify's ids are unique across shops,
   * the stand-in's only with this: give shops synced into one database different offsets (say
   * 1,000,000,000 apart); seeding stays deterministic per offset.
   */
  idOffset?: number;
}

export interface ShopifyServerOptions extends ThrottleOptions {
  /** The default shop's domain (`<name>.myshopify.com`); default `plugboard-test.myshopify.com`. */
  shopDomain?: string;
  /** Further shops to host, by domain. */
  shops?: string[];
  /** The default shop's access token. */
  accessToken?: string;
  /** The API version `apiVersion` reports (any `YYYY-MM` version or `unstable` is served); default 2026-10. */
  apiVersion?: string;
  /** The app's client id (OAuth `client_id`); default 32 random hex digits. */
  apiKey?: string;
  /** The app's client secret, which signs webhooks and OAuth redirects; default random. */
  apiSecretKey?: string;
  /** How long a bulk operation takes from creation to COMPLETED, in ms; default 100. */
  bulkDurationMs?: number;
  /** The app's scopes: those of the client-credentials grant; default read access to everything served. */
  scopes?: string;
  /** Lifetime of expiring offline tokens (OAuth with `expiring=1`, refresh grants); default 3600. */
  accessTokenTtlSeconds?: number;
  /** Latency added to every response, in ms (see also `setLatency`). */
  latencyMs?: number;
  /** The clock for timestamps of new and changed objects, in ms (default: wall clock). */
  now?: () => number;
}

export interface ShopStats {
  /** GraphQL requests that reached the shop with a valid token. */
  graphqlRequests: number;
  /** Of those, answered THROTTLED. */
  throttled: number;
  /** Of those, answered MAX_COST_EXCEEDED. */
  costExceeded: number;
  /** Sum of actual query costs charged. */
  costCharged: number;
  bulkOperations: number;
  /** Bulk result files downloaded. */
  bulkDownloads: number;
  webhooksDelivered: number;
  webhooksFailed: number;
  products: number;
  variants: number;
  customers: number;
  orders: number;
}

export interface ServerStats extends ShopStats {
  /** Every HTTP request received. */
  requests: number;
  /** Requests refused with 401. */
  unauthorized: number;
}

export interface ShopifyRequestRecord {
  method: string;
  /** The path without the shop prefix (`/admin/api/2026-10/graphql.json`). */
  path: string;
  /** The shop addressed, null for bulk result downloads. */
  shop: string | null;
  /** The status answered; 0 while in flight or when the connection was reset. */
  status: number;
  at: number;
}

export interface ThrottleStatus {
  maximumAvailable: number;
  currentlyAvailable: number;
  restoreRate: number;
}

export interface WebhookDelivery {
  topic: string;
  url: string;
  webhookId: string;
  body: string;
  /** The HTTP status answered, 0 when the request failed. */
  status: number;
  error: string | null;
}

/** One shop hosted by the stand-in: its data, and helpers that change it as a merchant would. */
export interface ShopifyShop {
  readonly shopDomain: string;
  readonly name: string;
  /** `gid://shopify/Shop/<n>`. */
  readonly shopId: string;
  readonly accessToken: string;
  /** `http://127.0.0.1:PORT/<shopDomain>`: what `https://<shopDomain>` is rewritten to. */
  readonly shopUrl: string;
  readonly store: ShopStore;
  /** Bulk-creates deterministic objects (same options and seed, same data). */
  seed(options?: SeedOptions): SeedResult;
  addProduct(input?: ProductInput): ShopifyProduct;
  /** Changes a product and bumps `updatedAt` (to the clock, or `changes.updatedAt`). */
  updateProduct(id: string, changes: ProductChanges): ShopifyProduct;
  deleteProduct(id: string): ShopifyProduct;
  setInventory(inventoryItemId: string, available: number, locationId?: string): ShopifyInventoryLevel;
  addCollection(title: string, productIds?: string[]): ShopifyCollection;
  addLocation(name?: string): ShopifyLocation;
  addCustomer(input?: CustomerInput): ShopifyCustomer;
  updateCustomer(id: string, changes: CustomerInput): ShopifyCustomer;
  deleteCustomer(id: string): ShopifyCustomer;
  addOrder(input?: OrderInput): ShopifyOrder;
  updateOrder(id: string, changes: OrderChanges): ShopifyOrder;
  deleteOrder(id: string): ShopifyOrder;
  /** Subscribes `callbackUrl` to a topic (`PRODUCTS_UPDATE` or `products/update`), as the mutation does. */
  subscribeWebhook(topic: string, callbackUrl: string): WebhookSubscriptionRecord;
  readonly webhookSubscriptions: readonly WebhookSubscriptionRecord[];
  readonly webhookDeliveries: readonly WebhookDelivery[];
  readonly bulkOperations: readonly BulkOperationRecord[];
  /** The next bulk operation fails with `errorCode` after writing `partialLines` lines (served at `partialDataUrl`). */
  failNextBulkOperation(errorCode?: BulkOperationRecord['errorCode'], partialLines?: number): void;
  throttleStatus(): ThrottleStatus;
  /**
   * Uninstalls the app: every token of the shop answers 401 from now on, `app/uninstalled` is
   * delivered to the shop's subscriptions for that topic, and then every subscription is removed.
   */
  uninstallApp(): void;
  /** Makes a token of the shop answer 401 (as an uninstall or a revoked token does). */
  revokeToken(token: string): void;
  /** Changes the bucket (e.g. empties it with `currentlyAvailable: 0`). */
  setThrottle(changes: ThrottleOptions & { currentlyAvailable?: number }): void;
  stats(): ShopStats;
}

export interface ShopifyServer extends ShopifyShop {
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  readonly port: number;
  /** The API version the stand-in reports as current (clients may ask for any). */
  readonly apiVersion: string;
  readonly apiKey: string;
  readonly apiSecretKey: string;
  /** A hosted shop by domain (throws for others). */
  shop(domain: string): ShopifyShop;
  addShop(domain: string, options?: ShopOptions): ShopifyShop;
  shops(): ShopifyShop[];
  hosts(domain: string): boolean;
  /** Every request, across shops. */
  stats(): ServerStats;
  readonly requests: readonly ShopifyRequestRecord[];
  /** How many requests hit a path starting with `pathPrefix` (all when omitted), across shops. */
  requestCount(pathPrefix?: string): number;
  /** The next `count` requests (whose path `match` accepts) fail with `status` (0: the connection is reset). */
  failNext(count: number, status?: number, match?: (path: string, method: string) => boolean): void;
  setLatency(ms: number): void;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Webhooks and URLs (exported for other tests)
// ---------------------------------------------------------------------------------------------

/** `PRODUCTS_UPDATE` → `products/update`, `BULK_OPERATIONS_FINISH` → `bulk_operations/finish`. */
export function webhookTopicName(topic: string): string {
  if (topic.includes('/')) return topic;
  const lower = topic.toLowerCase();
  const cut = lower.lastIndexOf('_');
  return `${lower.slice(0, cut)}/${lower.slice(cut + 1)}`;
}

/** `products/update` → `PRODUCTS_UPDATE`. */
export const webhookTopicEnum = (topic: string): string => topic.replace('/', '_').toUpperCase();

/**
 * A webhook as Shopify sends it: the JSON body and its headers, `X-Shopify-Hmac-Sha256` being the
 * base64 HMAC-SHA256 of the raw body keyed by the app's client secret.
 */
export function shopifyWebhook(
  secret: string,
  topic: string,
  shop: string,
  payload: unknown,
  options: { apiVersion?: string; webhookId?: string; eventId?: string; triggeredAt?: string } = {},
): { body: string; headers: Record<string, string> } {
  const body = JSON.stringify(payload);
  return {
    body,
    headers: {
      'Content-Type': 'application/json',
      'X-Shopify-Topic': webhookTopicName(topic),
      'X-Shopify-Hmac-Sha256': createHmac('sha256', secret).update(body, 'utf8').digest('base64'),
      'X-Shopify-Shop-Domain': shop,
      'X-Shopify-API-Version': options.apiVersion ?? DEFAULT_API_VERSION,
      'X-Shopify-Webhook-Id': options.webhookId ?? randomUUID(),
      'X-Shopify-Event-Id': options.eventId ?? randomUUID(),
      'X-Shopify-Triggered-At': options.triggeredAt ?? new Date().toISOString(),
    },
  };
}

/** The `hmac` Shopify adds to OAuth redirects: hex HMAC-SHA256 of the sorted query without it. */
export function shopifyQueryHmac(secret: string, params: Record<string, string>): string {
  const sorted = new URLSearchParams();
  for (const key of Object.keys(params).sort()) {
    if (key === 'hmac' || key === 'signature') continue;
    sorted.append(key, params[key] as string);
  }
  const message = sorted.toString().replace(/\+/g, '%20');
  return createHmac('sha256', secret).update(message).digest('hex');
}

type FetchInput = string | URL | Request;

/**
 * A fetch that sends `https://<shop>` requests for the stand-in's shops to the stand-in (see the
 * file header): pass it as admin-api-client's `customFetchApi`, or to shopify-api's
 * `setAbstractFetchFunc`. Other URLs go to the global fetch.
 */
export function shopifyFetchFor(
  server: Pick<ShopifyServer, 'url' | 'hosts'>,
): (input: FetchInput, init?: RequestInit) => Promise<Response> {
  return (input, init) => {
    const href = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const url = new URL(href);
    if (!server.hosts(url.hostname)) return fetch(input, init);
    const target = `${server.url}/${url.hostname}${url.pathname}${url.search}`;
    if (input instanceof Request) return fetch(new Request(target, input), init);
    return fetch(target, init);
  };
}

// ---------------------------------------------------------------------------------------------
// Internals
// ---------------------------------------------------------------------------------------------

const DEFAULT_API_VERSION = '2026-10';
const API_VERSION = /^(\d{4}-(?:01|04|07|10)|unstable)$/;
const UNAUTHORIZED_BODY = JSON.stringify({
  errors: '[API] Invalid API key or access token (unrecognized login or wrong password)',
});
const MAX_BODY_BYTES = 1_000_000;
const RATE_LIMIT_DOCS = 'https://shopify.dev/api/usage/rate-limits';
const MUTATION_COST = 10;
const DEFAULT_SCOPES = 'read_products,read_inventory,read_locations,read_customers,read_orders';
/** Online and client-credentials tokens live a day (Shopify: 86399 s). */
const ONLINE_TOKEN_TTL_SECONDS = 86_399;
/** Refresh tokens of expiring offline tokens live 90 days. */
const REFRESH_TOKEN_TTL_SECONDS = 7_776_000;

class HttpError extends Error {
  readonly status: number;
  readonly body: string;
  readonly contentType: string;
  constructor(status: number, body: string, contentType = 'application/json; charset=utf-8') {
    super(body);
    this.status = status;
    this.body = body;
    this.contentType = contentType;
  }
}

const jsonError = (status: number, errors: unknown): HttpError => new HttpError(status, JSON.stringify({ errors }));

interface Bucket {
  maximumAvailable: number;
  restoreRate: number;
  maxQueryCost: number;
  available: number;
  at: number;
}

interface BulkFile {
  shop: ShopState;
  body: Buffer;
}

interface OAuthCode {
  shop: string;
  scope: string;
  /** `grant_options[]=per-user`: an online token, tied to a staff member. */
  online: boolean;
  expires: number;
}

interface TokenRecord {
  /** Granted scopes; null for the shop's own token, which may read everything. */
  scopes: ReadonlySet<string> | null;
  scope: string;
  /** Wall-clock ms after which the token answers 401; null when it does not expire. */
  expires: number | null;
}

interface Fault {
  remaining: number;
  status: number;
  match: ((path: string, method: string) => boolean) | null;
}

interface ShopState {
  identity: ShopIdentity;
  store: ShopStore;
  tokens: Map<string, TokenRecord>;
  /** Refresh tokens of expiring offline tokens, to the scope they renew. */
  refreshTokens: Map<string, { scope: string; expires: number }>;
  bucket: Bucket;
  bulkOperations: Table<BulkOperationRecord>;
  webhookSubscriptions: Table<WebhookSubscriptionRecord>;
  deliveries: WebhookDelivery[];
  failNextBulk: { errorCode: BulkOperationRecord['errorCode']; partialLines: number } | null;
  stats: Omit<ShopStats, 'products' | 'variants' | 'customers' | 'orders'>;
  handle: ShopifyShop;
}

/** Extra context the cost plugin reads. */
interface RequestExtras {
  shopState: ShopState;
}

// --- query cost -------------------------------------------------------------------------------

interface CostInput {
  schema: GraphQLSchema;
  fragments: Map<string, FragmentDefinitionNode>;
  variables: Record<string, unknown>;
}

function argValue(node: ValueNode | undefined, variables: Record<string, unknown>): unknown {
  if (!node) return undefined;
  if (node.kind === Kind.VARIABLE) return variables[node.name.value];
  if (node.kind === Kind.INT) return Number(node.value);
  return undefined;
}

const isConnectionName = (name: string): boolean => name.endsWith('Connection');

function fieldOf(type: GraphQLCompositeType, name: string): GraphQLField<unknown, unknown> | undefined {
  return isObjectType(type) || isInterfaceType(type) ? type.getFields()[name] : undefined;
}

/**
 * The cost of a selection as Shopify counts it: scalars and enums 0, objects 1, connections 2 +
 * size × (cost of one node). Without `data` it is the requested cost (size = `first`/`last`);
 * with `data` the actual one (size = nodes returned, absent objects free).
 */
function selectionCost(
  input: CostInput,
  selectionSet: SelectionSetNode,
  type: GraphQLCompositeType,
  data: unknown,
  actual: boolean,
): number {
  let cost = 0;
  const record = (data ?? null) as Record<string, unknown> | null;
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.INLINE_FRAGMENT || selection.kind === Kind.FRAGMENT_SPREAD) {
      const fragment = selection.kind === Kind.INLINE_FRAGMENT ? selection : input.fragments.get(selection.name.value);
      if (!fragment) continue;
      const condition = fragment.typeCondition ? input.schema.getType(fragment.typeCondition.name.value) : type;
      if (!condition || !isCompositeType(condition)) continue;
      if (actual && record && isObjectType(condition) && record.__typename && record.__typename !== condition.name)
        continue;
      cost += selectionCost(input, fragment.selectionSet, condition, data, actual);
      continue;
    }
    const name = selection.name.value;
    if (name.startsWith('__')) continue;
    const field = fieldOf(type, name);
    if (!field || !selection.selectionSet) continue;
    const named = getNamedType(field.type);
    if (!isCompositeType(named)) continue;
    const value = record ? record[selection.alias?.value ?? name] : undefined;
    if (actual && (value === null || value === undefined)) continue;
    if (isConnectionName(named.name) && isObjectType(named)) {
      const first = selection.arguments?.find((a) => a.name.value === 'first')?.value;
      const last = selection.arguments?.find((a) => a.name.value === 'last')?.value;
      const size = Number(argValue(first, input.variables) ?? argValue(last, input.variables) ?? 1);
      const connection = (value ?? {}) as { edges?: { node?: unknown }[]; nodes?: unknown[] };
      cost += 2;
      for (const inner of selection.selectionSet.selections) {
        if (inner.kind !== Kind.FIELD || !inner.selectionSet) continue;
        const innerName = inner.name.value;
        const key = inner.alias?.value ?? innerName;
        if (innerName === 'nodes') {
          const nodeType = getNamedType(named.getFields().nodes?.type) as GraphQLCompositeType;
          if (actual) {
            for (const node of (connection as Record<string, unknown[]>)[key] ?? [])
              cost += 1 + selectionCost(input, inner.selectionSet, nodeType, node, true);
          } else cost += size * (1 + selectionCost(input, inner.selectionSet, nodeType, undefined, false));
        } else if (innerName === 'edges') {
          const edgeType = getNamedType(named.getFields().edges?.type) as GraphQLCompositeType;
          const nodeField = inner.selectionSet.selections.find((s) => s.kind === Kind.FIELD && s.name.value === 'node');
          if (!nodeField || nodeField.kind !== Kind.FIELD || !nodeField.selectionSet || !isObjectType(edgeType))
            continue;
          const nodeType = getNamedType(edgeType.getFields().node?.type) as GraphQLCompositeType;
          const nodeKey = nodeField.alias?.value ?? 'node';
          if (actual) {
            for (const edge of (connection as Record<string, Record<string, unknown>[]>)[key] ?? [])
              cost += 1 + selectionCost(input, nodeField.selectionSet, nodeType, edge[nodeKey], true);
          } else cost += size * (1 + selectionCost(input, nodeField.selectionSet, nodeType, undefined, false));
        }
      }
      continue;
    }
    if (actual && Array.isArray(value)) {
      for (const item of value) cost += 1 + selectionCost(input, selection.selectionSet, named, item, true);
    } else cost += 1 + selectionCost(input, selection.selectionSet, named, value, actual);
  }
  return cost;
}

function queryCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown>,
  data?: unknown,
): number {
  const operation = getOperationAST(document, operationName);
  if (!operation) return 0;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions)
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  const root = operation.operation === 'mutation' ? schema.getMutationType() : schema.getQueryType();
  if (!root) return 0;
  // A mutation costs 10 whatever it selects.
  if (operation.operation === 'mutation')
    return operation.selectionSet.selections.filter((s) => s.kind === Kind.FIELD).length * MUTATION_COST;
  return selectionCost({ schema, fragments, variables }, operation.selectionSet, root, data, data !== undefined);
}

let costSchema: GraphQLSchema | null = null;

/** The requested cost of a query as the stand-in charges it (see the file header). */
export function shopifyQueryCost(query: string, variables: Record<string, unknown> = {}): number {
  costSchema ??= buildSchema();
  return queryCost(costSchema, parse(query), undefined, variables);
}

// --- bulk queries -------------------------------------------------------------------------------

/**
 * Shopify's rules for a bulk query: at least one connection, at most five, nested at most two
 * deep, and every node with a nested connection selects its `id` (the children's `__parentId`).
 */
function checkBulkQuery(schema: GraphQLSchema, document: DocumentNode): string | null {
  const operation = getOperationAST(document);
  if (!operation) return 'Bulk queries must contain exactly one operation.';
  if (operation.operation !== 'query') return 'Bulk queries must be queries.';
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions)
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  let connections = 0;
  let problem: string | null = null;
  const walk = (selectionSet: SelectionSetNode, type: GraphQLCompositeType, depth: number, nodePath: string[]) => {
    for (const selection of selectionSet.selections) {
      if (selection.kind !== Kind.FIELD) {
        const fragment = selection.kind === Kind.INLINE_FRAGMENT ? selection : fragments.get(selection.name.value);
        if (!fragment) continue;
        const condition = fragment.typeCondition ? schema.getType(fragment.typeCondition.name.value) : type;
        if (condition && isCompositeType(condition)) walk(fragment.selectionSet, condition, depth, nodePath);
        continue;
      }
      const field = fieldOf(type, selection.name.value);
      if (!field || !selection.selectionSet) continue;
      const named = getNamedType(field.type);
      if (!isCompositeType(named)) continue;
      if (isConnectionName(named.name) && isObjectType(named)) {
        connections += 1;
        if (depth >= 2) problem ??= 'Bulk queries cannot contain connections with a nesting depth greater than 2.';
        if (depth > 0 && !hasPlainId(selectionSet))
          problem ??= `The parent 'node' field for a nested connection must select the 'id' field without an alias and must be of 'ID' return type. Connection fields without 'id': ${nodePath.join('.')}.`;
        for (const inner of selection.selectionSet.selections) {
          if (inner.kind !== Kind.FIELD || !inner.selectionSet) continue;
          if (inner.name.value === 'nodes') {
            const nodeType = getNamedType(named.getFields().nodes?.type) as GraphQLCompositeType;
            walk(inner.selectionSet, nodeType, depth + 1, [...nodePath, selection.name.value]);
          } else if (inner.name.value === 'edges') {
            for (const edgeField of inner.selectionSet.selections) {
              if (edgeField.kind !== Kind.FIELD || edgeField.name.value !== 'node' || !edgeField.selectionSet) continue;
              const edgeType = getNamedType(named.getFields().edges?.type);
              if (!isObjectType(edgeType)) continue;
              const nodeType = getNamedType(edgeType.getFields().node?.type) as GraphQLCompositeType;
              walk(edgeField.selectionSet, nodeType, depth + 1, [...nodePath, selection.name.value]);
            }
          }
        }
      } else walk(selection.selectionSet, named, depth, [...nodePath, selection.name.value]);
    }
  };
  const root = schema.getQueryType();
  if (root) walk(operation.selectionSet, root, 0, []);
  if (problem) return problem;
  if (connections === 0) return 'Bulk queries must contain at least one connection.';
  if (connections > 5) return 'Bulk queries cannot contain more than 5 connections.';
  return null;
}

const hasPlainId = (selectionSet: SelectionSetNode): boolean =>
  selectionSet.selections.some((s) => s.kind === Kind.FIELD && s.name.value === 'id' && !s.alias);

function connectionNodes(value: unknown): unknown[] | null {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return null;
  const record = value as { edges?: unknown; nodes?: unknown };
  if (Array.isArray(record.nodes)) return record.nodes;
  if (Array.isArray(record.edges)) return record.edges.map((edge) => (edge as { node: unknown }).node);
  return null;
}

/** The JSONL lines of a bulk query's result: each node, then its nested connections' nodes. */
function bulkLines(data: Record<string, unknown>): { lines: string[]; roots: number } {
  const lines: string[] = [];
  let roots = 0;
  const emit = (node: Record<string, unknown>, parentId: string | null): void => {
    const line: Record<string, unknown> = {};
    const children: unknown[][] = [];
    for (const [key, value] of Object.entries(node)) {
      const nested = connectionNodes(value);
      if (nested) children.push(nested);
      else line[key] = value;
    }
    if (parentId !== null) line.__parentId = parentId;
    lines.push(JSON.stringify(line));
    for (const list of children) for (const child of list) emit(child as Record<string, unknown>, String(node.id));
  };
  for (const value of Object.values(data)) {
    const nodes = connectionNodes(value);
    if (!nodes) continue;
    for (const node of nodes) {
      roots += 1;
      emit(node as Record<string, unknown>, null);
    }
  }
  return { lines, roots };
}

// --- HTTP helpers ---------------------------------------------------------------------------------

async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw jsonError(413, 'Request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function shopNameOf(domain: string): string {
  const name = domain.replace(/\.myshopify\.com$/, '');
  return name
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join(' ');
}

const MYSHOPIFY = /^[a-z0-9][a-z0-9-]*\.myshopify\.com$/;

// ---------------------------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------------------------

export async function startShopifyServer(options: ShopifyServerOptions = {}): Promise<ShopifyServer> {
  const clock = options.now ?? Date.now;
  const apiVersion = options.apiVersion ?? DEFAULT_API_VERSION;
  const apiKey = options.apiKey ?? randomBytes(16).toString('hex');
  const apiSecretKey = options.apiSecretKey ?? randomBytes(32).toString('hex');
  const bulkDurationMs = options.bulkDurationMs ?? 100;
  const appScopes = options.scopes ?? DEFAULT_SCOPES;
  const tokenTtlSeconds = options.accessTokenTtlSeconds ?? 3600;
  let latencyMs = options.latencyMs ?? 0;
  let faults: Fault[] = [];
  const requests: ShopifyRequestRecord[] = [];
  const maximumAvailable = options.maximumAvailable ?? 2000;
  const restoreRate = options.restoreRate ?? 100;
  const maxQueryCost = options.maxQueryCost ?? Math.min(1000, maximumAvailable);
  const schema = buildSchema();
  const shops = new Map<string, ShopState>();
  const bulkFiles = new Map<string, BulkFile>();
  const oauthCodes = new Map<string, OAuthCode>();
  const timers = new Set<NodeJS.Timeout>();
  const serverStats = { requests: 0, unauthorized: 0 };
  let origin = '';
  let closed = false;

  const later = (ms: number, run: () => void): void => {
    if (closed) return;
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (!closed) run();
    }, ms);
    timers.add(timer);
  };

  // --- throttling ------------------------------------------------------------------------------

  const refill = (bucket: Bucket): Bucket => {
    const at = Date.now();
    bucket.available = Math.min(
      bucket.maximumAvailable,
      bucket.available + ((at - bucket.at) / 1000) * bucket.restoreRate,
    );
    bucket.at = at;
    return bucket;
  };
  const throttleStatus = (bucket: Bucket): ThrottleStatus => ({
    maximumAvailable: bucket.maximumAvailable,
    currentlyAvailable: Math.floor(refill(bucket).available),
    restoreRate: bucket.restoreRate,
  });

  const costPlugin: Plugin<ShopContext> = {
    onExecute({ args, setResultAndStopExecution }) {
      const context = args.contextValue as unknown as ShopContext & RequestExtras;
      const state = context.shopState;
      const bucket = refill(state.bucket);
      const variables = (args.variableValues ?? {}) as Record<string, unknown>;
      const requested = queryCost(args.schema, args.document, args.operationName, variables);
      const costExtension = (actual: number | null) => ({
        requestedQueryCost: requested,
        actualQueryCost: actual,
        throttleStatus: throttleStatus(bucket),
      });
      if (requested > bucket.maxQueryCost) {
        state.stats.costExceeded += 1;
        setResultAndStopExecution({
          errors: [
            new GraphQLError(
              `Query cost is ${requested}, which exceeds the single query max cost limit (${bucket.maxQueryCost}).\n\nSee https://shopify.dev/concepts/about-apis/rate-limits for more information on how the\ncost of a query is calculated.\n\nTo query larger amounts of data with fewer limits, bulk operations should be used instead.\nSee https://shopify.dev/api/usage/bulk-operations/queries for usage details.\n`,
              {
                extensions: {
                  code: 'MAX_COST_EXCEEDED',
                  cost: requested,
                  maxCost: bucket.maxQueryCost,
                  documentation: RATE_LIMIT_DOCS,
                },
              },
            ),
          ],
          extensions: { cost: costExtension(null) },
        });
        return;
      }
      if (requested > bucket.available) {
        state.stats.throttled += 1;
        setResultAndStopExecution({
          errors: [
            new GraphQLError('Throttled', { extensions: { code: 'THROTTLED', documentation: RATE_LIMIT_DOCS } }),
          ],
          extensions: { cost: costExtension(null) },
        });
        return;
      }
      return {
        onExecuteDone({ result, setResult }) {
          if (!result || Symbol.asyncIterator in result) return;
          const done = result as ExecutionResult;
          const actual = queryCost(args.schema, args.document, args.operationName, variables, done.data ?? null);
          bucket.available -= actual;
          state.stats.costCharged += actual;
          const extensions: Record<string, unknown> = { ...done.extensions, cost: costExtension(actual) };
          if (context.searchWarnings.length) extensions.search = context.searchWarnings;
          setResult({ ...done, extensions });
        },
      };
    },
  };

  const yoga = createYoga<ShopContext>({
    schema,
    graphqlEndpoint: '/graphql',
    graphiql: false,
    landingPage: false,
    logging: false,
    maskedErrors: true,
    plugins: [costPlugin],
  });

  // --- webhooks --------------------------------------------------------------------------------

  const deliver = (state: ShopState, topic: string, payload: unknown): void => {
    const name = webhookTopicName(topic);
    const topicEnum = webhookTopicEnum(name);
    for (const subscription of state.webhookSubscriptions.all()) {
      if (subscription.topic !== topicEnum) continue;
      const webhookId = randomUUID();
      // `includeFields` narrows the payload to those top-level fields, as Shopify does.
      const fields = subscription.includeFields;
      const sent =
        fields.length && payload && typeof payload === 'object'
          ? Object.fromEntries(Object.entries(payload).filter(([key]) => fields.includes(key)))
          : payload;
      const { body, headers } = shopifyWebhook(apiSecretKey, name, state.identity.myshopifyDomain, sent, {
        apiVersion,
        webhookId,
      });
      const delivery: WebhookDelivery = {
        topic: name,
        url: subscription.callbackUrl,
        webhookId,
        body,
        status: 0,
        error: null,
      };
      state.deliveries.push(delivery);
      fetch(subscription.callbackUrl, { method: 'POST', headers, body, signal: AbortSignal.timeout(5000) }).then(
        async (response) => {
          delivery.status = response.status;
          await response.arrayBuffer();
          if (response.ok) state.stats.webhooksDelivered += 1;
          else state.stats.webhooksFailed += 1;
        },
        (error: unknown) => {
          delivery.error = error instanceof Error ? error.message : String(error);
          state.stats.webhooksFailed += 1;
        },
      );
    }
  };

  /** The REST-shaped payloads Shopify's resource webhooks carry (a subset of their fields). */
  const restPayload = (
    store: ShopStore,
    kind: 'product' | 'customer' | 'order',
    record: { id: string },
  ): Record<string, unknown> => {
    const base = { id: legacyIdOf(record.id), admin_graphql_api_id: record.id };
    const ref = (id: string | null) => (id === null ? null : legacyIdOf(id));
    if (kind === 'product') {
      const p = record as ShopifyProduct;
      return {
        ...base,
        title: p.title,
        body_html: p.descriptionHtml,
        handle: p.handle,
        status: p.status.toLowerCase(),
        vendor: p.vendor,
        product_type: p.productType,
        tags: p.tags.join(', '),
        created_at: p.createdAt,
        updated_at: p.updatedAt,
        variants: p.variantIds.flatMap((variantId) => {
          const v = store.variants.get(variantId);
          if (!v) return [];
          return [
            {
              id: legacyIdOf(v.id),
              admin_graphql_api_id: v.id,
              product_id: legacyIdOf(p.id),
              title: v.title,
              price: v.price,
              sku: v.sku,
              position: v.position,
              inventory_item_id: legacyIdOf(v.inventoryItem.id),
              inventory_quantity: v.inventoryQuantity,
              created_at: v.createdAt,
              updated_at: v.updatedAt,
            },
          ];
        }),
      };
    }
    if (kind === 'customer') {
      const c = record as ShopifyCustomer;
      return {
        ...base,
        email: c.email,
        first_name: c.firstName,
        last_name: c.lastName,
        phone: c.phone,
        state: c.state.toLowerCase(),
        tags: c.tags.join(', '),
        created_at: c.createdAt,
        updated_at: c.updatedAt,
      };
    }
    const o = record as ShopifyOrder;
    return {
      ...base,
      name: o.name,
      email: o.email,
      currency: o.currencyCode,
      total_price: o.totalPriceSet.shopMoney.amount,
      subtotal_price: o.subtotalPriceSet.shopMoney.amount,
      financial_status: o.displayFinancialStatus.toLowerCase(),
      fulfillment_status:
        o.displayFulfillmentStatus === 'UNFULFILLED' ? null : o.displayFulfillmentStatus.toLowerCase(),
      customer: o.customerId ? { id: legacyIdOf(o.customerId), admin_graphql_api_id: o.customerId } : null,
      line_items: o.lineItems.map((line) => ({
        id: legacyIdOf(line.id),
        admin_graphql_api_id: line.id,
        variant_id: ref(line.variantId),
        product_id: ref(line.productId),
        title: line.title,
        quantity: line.quantity,
        sku: line.sku,
        price: line.originalUnitPriceSet.shopMoney.amount,
      })),
      fulfillments: o.fulfillments.map((f) => ({
        id: legacyIdOf(f.id),
        admin_graphql_api_id: f.id,
        order_id: legacyIdOf(o.id),
        name: f.name,
        status: f.status.toLowerCase(),
        tracking_number: f.trackingInfo[0]?.number ?? null,
        created_at: f.createdAt,
        updated_at: f.updatedAt,
      })),
      processed_at: o.processedAt,
      cancelled_at: o.cancelledAt,
      closed_at: o.closedAt,
      created_at: o.createdAt,
      updated_at: o.updatedAt,
    };
  };

  // --- bulk operations ---------------------------------------------------------------------------

  const currentBulk = (state: ShopState): BulkOperationRecord | null => {
    const view = state.bulkOperations.sorted('ID', (r) => legacyIdOf(r.id));
    return view.records[view.records.length - 1] ?? null;
  };

  const runBulkQuery = (
    state: ShopState,
    query: string,
    scopes: ReadonlySet<string> | null,
  ): { bulkOperation: BulkOperationRecord | null; userErrors: BulkUserError[] } => {
    const current = currentBulk(state);
    if (current && (current.status === 'CREATED' || current.status === 'RUNNING' || current.status === 'CANCELING'))
      return {
        bulkOperation: null,
        userErrors: [
          {
            field: null,
            message: `A bulk query operation for this app and shop is already in progress: ${current.id}.`,
            code: 'OPERATION_IN_PROGRESS',
          },
        ],
      };
    let document: DocumentNode;
    try {
      document = parse(query);
    } catch (error) {
      return invalidBulk(`Invalid bulk query: ${(error as Error).message}`);
    }
    const errors = validate(schema, document);
    if (errors.length) return invalidBulk(`Invalid bulk query: ${errors.map((e) => e.message).join(' ')}`);
    const problem = checkBulkQuery(schema, document);
    if (problem) return invalidBulk(problem);
    const n = state.store.nextId('BulkOperation');
    const createdMs = Date.now();
    const operation: BulkOperationRecord = {
      id: gid('BulkOperation', n),
      status: 'CREATED',
      type: 'QUERY',
      errorCode: null,
      createdAt: isoSeconds(clock()),
      completedAt: null,
      finishedMs: null,
      objectCount: '0',
      rootObjectCount: '0',
      fileSize: null,
      url: null,
      partialDataUrl: null,
      query,
    };
    state.bulkOperations.set(operation);
    state.stats.bulkOperations += 1;
    const failure = state.failNextBulk;
    state.failNextBulk = null;
    later(0, () => {
      if (operation.status !== 'CREATED') return;
      operation.status = 'RUNNING';
      later(0, () => void executeBulk(state, operation, document, createdMs, failure, scopes));
    });
    return { bulkOperation: operation, userErrors: [] };
  };

  const invalidBulk = (message: string) => ({
    bulkOperation: null,
    userErrors: [{ field: ['query'], message, code: 'INVALID' as const }],
  });

  const executeBulk = async (
    state: ShopState,
    operation: BulkOperationRecord,
    document: DocumentNode,
    createdMs: number,
    failure: ShopState['failNextBulk'],
    scopes: ReadonlySet<string> | null,
  ): Promise<void> => {
    if (operation.status !== 'RUNNING') return;
    const result = await execute({ schema, document, contextValue: shopContext(state, true, scopes) });
    const finish = (): void => {
      if (operation.status !== 'RUNNING') return;
      if (result.errors?.length || !result.data || failure) {
        operation.status = 'FAILED';
        const denied = result.errors?.some((e) => e.extensions?.code === 'ACCESS_DENIED');
        operation.errorCode = failure?.errorCode ?? (denied ? 'ACCESS_DENIED' : 'INTERNAL_SERVER_ERROR');
        if (failure && result.data) {
          const { lines } = bulkLines(result.data);
          const partial = lines.slice(0, failure.partialLines);
          operation.objectCount = String(partial.length);
          if (partial.length) operation.partialDataUrl = storeFile(state, operation, partial);
        }
      } else {
        const { lines, roots } = bulkLines(result.data);
        operation.status = 'COMPLETED';
        operation.objectCount = String(lines.length);
        operation.rootObjectCount = String(roots);
        // Shopify gives no file (url null) when the query matched nothing.
        if (lines.length) {
          operation.url = storeFile(state, operation, lines);
          operation.fileSize = String(bulkFiles.get(fileToken(operation.url))?.body.length ?? 0);
        }
      }
      // Complete once its file is written, as Shopify reports it.
      operation.completedAt = isoSeconds(clock());
      operation.finishedMs = Date.now();
      bulkFinished(state, operation);
    };
    later(Math.max(0, createdMs + bulkDurationMs - Date.now()), finish);
  };

  const bulkFinished = (state: ShopState, operation: BulkOperationRecord): void =>
    deliver(state, 'bulk_operations/finish', {
      admin_graphql_api_id: operation.id,
      completed_at: operation.completedAt,
      created_at: operation.createdAt,
      error_code: operation.errorCode?.toLowerCase() ?? null,
      status: operation.status.toLowerCase(),
      type: operation.type.toLowerCase(),
    });

  const storeFile = (state: ShopState, operation: BulkOperationRecord, lines: string[]): string => {
    const token = randomBytes(16).toString('hex');
    bulkFiles.set(token, { shop: state, body: Buffer.from(lines.length ? `${lines.join('\n')}\n` : '') });
    return `${origin}/bulk-operation-results/${token}/bulk-${legacyIdOf(operation.id)}.jsonl`;
  };
  const fileToken = (url: string): string => /\/bulk-operation-results\/([0-9a-f]+)\//.exec(url)?.[1] ?? '';

  const cancelBulk = (
    state: ShopState,
    id: string,
  ): { bulkOperation: BulkOperationRecord | null; userErrors: UserError[] } => {
    const operation = state.bulkOperations.get(id);
    if (!operation)
      return { bulkOperation: null, userErrors: [{ field: ['id'], message: 'Bulk operation does not exist' }] };
    if (operation.status !== 'CREATED' && operation.status !== 'RUNNING')
      return {
        bulkOperation: operation,
        userErrors: [
          { field: null, message: `A bulk operation cannot be canceled when it is ${operation.status.toLowerCase()}` },
        ],
      };
    operation.status = 'CANCELING';
    later(10, () => {
      operation.status = 'CANCELED';
      operation.completedAt = isoSeconds(clock());
      operation.finishedMs = Date.now();
      bulkFinished(state, operation);
    });
    return { bulkOperation: operation, userErrors: [] };
  };

  // --- webhook subscriptions -----------------------------------------------------------------------

  const createSubscription = (
    state: ShopState,
    topic: string,
    input: {
      callbackUrl?: string | null;
      uri?: string | null;
      format?: 'JSON' | 'XML';
      includeFields?: string[] | null;
    },
  ): { webhookSubscription: WebhookSubscriptionRecord | null; userErrors: UserError[] } => {
    const target = input.uri ?? input.callbackUrl;
    let valid = false;
    try {
      valid = target ? ['http:', 'https:'].includes(new URL(target).protocol) : false;
    } catch {
      valid = false;
    }
    if (!target || !valid)
      return {
        webhookSubscription: null,
        userErrors: [{ field: ['webhookSubscription', 'callbackUrl'], message: 'Address is invalid' }],
      };
    for (const existing of state.webhookSubscriptions.all())
      if (existing.topic === topic && existing.callbackUrl === target)
        return {
          webhookSubscription: null,
          userErrors: [
            { field: ['webhookSubscription', 'callbackUrl'], message: 'Address for this topic has already been taken' },
          ],
        };
    const stamp = isoSeconds(clock());
    const subscription = state.webhookSubscriptions.set({
      id: gid('WebhookSubscription', state.store.nextId('WebhookSubscription')),
      topic,
      format: input.format ?? 'JSON',
      callbackUrl: target,
      uri: target,
      includeFields: input.includeFields ?? [],
      createdAt: stamp,
      updatedAt: stamp,
    });
    return { webhookSubscription: subscription, userErrors: [] };
  };

  const shopContext = (
    state: ShopState,
    bulk: boolean,
    scopes: ReadonlySet<string> | null,
  ): ShopContext & RequestExtras => ({
    shop: state.identity,
    store: state.store,
    bulk,
    scopes,
    searchWarnings: [],
    bulkOperations: state.bulkOperations,
    webhookSubscriptions: state.webhookSubscriptions,
    shopState: state,
    runBulkQuery: (query) => runBulkQuery(state, query, scopes),
    cancelBulkOperation: (id) => cancelBulk(state, id),
    currentBulkOperation: () => currentBulk(state),
    createWebhookSubscription: (topic, input) => createSubscription(state, topic, input),
    deleteWebhookSubscription: (id) =>
      state.webhookSubscriptions.delete(id)
        ? { deletedWebhookSubscriptionId: id, userErrors: [] }
        : {
            deletedWebhookSubscriptionId: null,
            userErrors: [{ field: ['id'], message: 'Webhook subscription does not exist' }],
          },
  });

  // --- shops -----------------------------------------------------------------------------------

  const addShop = (domain: string, shopOptions: ShopOptions = {}): ShopifyShop => {
    if (!MYSHOPIFY.test(domain)) throw new Error(`shopify-server: ${domain} is not a <name>.myshopify.com domain`);
    if (shops.has(domain)) throw new Error(`shopify-server: ${domain} is already hosted`);
    const store = new ShopStore(clock, shopOptions.currencyCode ?? 'USD', shopOptions.idOffset ?? 0);
    const accessToken = shopOptions.accessToken ?? `shpat_${randomBytes(16).toString('hex')}`;
    const name = shopOptions.name ?? shopNameOf(domain);
    const state: ShopState = {
      identity: {
        id: gid('Shop', 60_000_000_000 + shops.size + 1),
        name,
        email: `owner@${domain}`,
        myshopifyDomain: domain,
      },
      store,
      tokens: new Map([[accessToken, { scopes: null, scope: appScopes, expires: null }]]),
      refreshTokens: new Map(),
      bucket: { maximumAvailable, restoreRate, maxQueryCost, available: maximumAvailable, at: Date.now() },
      bulkOperations: new Table<BulkOperationRecord>(),
      webhookSubscriptions: new Table<WebhookSubscriptionRecord>(),
      deliveries: [],
      failNextBulk: null,
      stats: {
        graphqlRequests: 0,
        throttled: 0,
        costExceeded: 0,
        costCharged: 0,
        bulkOperations: 0,
        bulkDownloads: 0,
        webhooksDelivered: 0,
        webhooksFailed: 0,
      },
      handle: undefined as unknown as ShopifyShop,
    };
    const changed = <T extends { id: string }>(kind: 'product' | 'customer' | 'order', topic: string, record: T): T => {
      deliver(
        state,
        topic,
        topic.endsWith('/delete') ? { id: legacyIdOf(record.id) } : restPayload(store, kind, record),
      );
      return record;
    };
    const handle: ShopifyShop = {
      shopDomain: domain,
      name,
      shopId: state.identity.id,
      accessToken,
      get shopUrl() {
        return `${origin}/${domain}`;
      },
      store,
      seed: (seedOptions) => store.seed(seedOptions),
      addProduct: (input) => changed('product', 'products/create', store.addProduct(input)),
      updateProduct: (id, changes) => changed('product', 'products/update', store.updateProduct(id, changes)),
      deleteProduct: (id) => changed('product', 'products/delete', store.deleteProduct(id)),
      setInventory: (itemId, available, locationId) => {
        const level = store.setInventory(itemId, available, locationId);
        deliver(state, 'inventory_levels/update', {
          inventory_item_id: legacyIdOf(level.itemId),
          location_id: legacyIdOf(level.locationId),
          available: level.available,
          updated_at: level.updatedAt,
          admin_graphql_api_id: level.id,
        });
        return level;
      },
      addCollection: (title, productIds) => store.addCollection(title, productIds),
      addLocation: (locationName) => store.addLocation(locationName),
      addCustomer: (input) => changed('customer', 'customers/create', store.addCustomer(input)),
      updateCustomer: (id, changes) => changed('customer', 'customers/update', store.updateCustomer(id, changes)),
      deleteCustomer: (id) => changed('customer', 'customers/delete', store.deleteCustomer(id)),
      addOrder: (input) => changed('order', 'orders/create', store.addOrder(input)),
      updateOrder: (id, changes) => changed('order', 'orders/updated', store.updateOrder(id, changes)),
      deleteOrder: (id) => changed('order', 'orders/delete', store.deleteOrder(id)),
      subscribeWebhook: (topic, callbackUrl) => {
        const result = createSubscription(state, webhookTopicEnum(webhookTopicName(topic)), { callbackUrl });
        if (!result.webhookSubscription) throw new Error(`shopify-server: ${result.userErrors[0]?.message}`);
        return result.webhookSubscription;
      },
      get webhookSubscriptions() {
        return state.webhookSubscriptions.sorted('ID', (r) => legacyIdOf(r.id)).records;
      },
      get webhookDeliveries() {
        return state.deliveries;
      },
      get bulkOperations() {
        return state.bulkOperations.sorted('ID', (r) => legacyIdOf(r.id)).records;
      },
      failNextBulkOperation: (errorCode = 'INTERNAL_SERVER_ERROR', partialLines = 0) => {
        state.failNextBulk = { errorCode, partialLines };
      },
      throttleStatus: () => throttleStatus(state.bucket),
      uninstallApp: () => {
        state.tokens.clear();
        state.refreshTokens.clear();
        deliver(state, 'app/uninstalled', {
          id: legacyIdOf(state.identity.id),
          name: state.identity.name,
          email: state.identity.email,
          domain: domain,
          myshopify_domain: domain,
          currency: store.currencyCode,
        });
        // Shopify removes an uninstalled app's subscriptions: nothing more is delivered.
        for (const subscription of [...state.webhookSubscriptions.all()])
          state.webhookSubscriptions.delete(subscription.id);
      },
      revokeToken: (token) => {
        state.tokens.delete(token);
      },
      setThrottle: (changes) => {
        const bucket = refill(state.bucket);
        if (changes.maximumAvailable !== undefined) bucket.maximumAvailable = changes.maximumAvailable;
        if (changes.restoreRate !== undefined) bucket.restoreRate = changes.restoreRate;
        if (changes.maxQueryCost !== undefined) bucket.maxQueryCost = changes.maxQueryCost;
        else if (changes.maximumAvailable !== undefined) bucket.maxQueryCost = Math.min(1000, changes.maximumAvailable);
        bucket.available = Math.min(bucket.maximumAvailable, changes.currentlyAvailable ?? bucket.available);
      },
      stats: () => ({
        ...state.stats,
        products: store.products.size,
        variants: store.variants.size,
        customers: store.customers.size,
        orders: store.orders.size,
      }),
    };
    state.handle = handle;
    shops.set(domain, state);
    return handle;
  };

  const shopState = (domain: string): ShopState => {
    const state = shops.get(domain);
    if (!state) throw new Error(`shopify-server: ${domain} is not hosted`);
    return state;
  };

  // --- HTTP ------------------------------------------------------------------------------------

  const graphql = async (
    req: IncomingMessage,
    res: ServerResponse,
    state: ShopState,
    version: string,
  ): Promise<void> => {
    const token = req.headers['x-shopify-access-token'];
    const granted = typeof token === 'string' ? state.tokens.get(token) : undefined;
    if (!granted || (granted.expires !== null && granted.expires <= Date.now())) {
      serverStats.unauthorized += 1;
      throw new HttpError(401, UNAUTHORIZED_BODY);
    }
    if (req.method !== 'POST') throw jsonError(405, 'Method Not Allowed');
    const contentType = String(req.headers['content-type'] ?? 'application/json');
    if (!/^application\/(json|graphql)\b/.test(contentType)) throw jsonError(415, 'Unsupported Media Type');
    const body = await readBody(req, MAX_BODY_BYTES);
    state.stats.graphqlRequests += 1;
    const response = await yoga.fetch(
      'http://shopify.local/graphql',
      { method: 'POST', headers: { 'content-type': contentType, accept: 'application/json' }, body },
      shopContext(state, false, granted.scopes),
    );
    const text = await response.text();
    res.writeHead(response.status, {
      'Content-Type': 'application/json; charset=utf-8',
      'X-Shopify-API-Version': version,
      'X-Request-Id': randomUUID(),
    });
    res.end(text);
  };

  const authorize = (url: URL, res: ServerResponse, state: ShopState): void => {
    const params = url.searchParams;
    if (params.get('client_id') !== apiKey)
      throw new HttpError(400, 'Oauth error invalid_request: The provided client_id is invalid', 'text/plain');
    const redirectUri = params.get('redirect_uri');
    let redirect: URL;
    try {
      redirect = new URL(redirectUri ?? '');
    } catch {
      throw new HttpError(400, 'Oauth error invalid_request: The redirect_uri is missing or not valid', 'text/plain');
    }
    const scope = params.get('scope') ?? '';
    const code = randomBytes(16).toString('hex');
    const domain = state.identity.myshopifyDomain;
    const online = params.getAll('grant_options[]').includes('per-user');
    oauthCodes.set(code, { shop: domain, scope, online, expires: Date.now() + 60_000 });
    const query: Record<string, string> = {
      code,
      host: Buffer.from(`admin.shopify.com/store/${domain.replace(/\.myshopify\.com$/, '')}`).toString('base64url'),
      shop: domain,
      state: params.get('state') ?? '',
      timestamp: String(Math.floor(Date.now() / 1000)),
    };
    query.hmac = shopifyQueryHmac(apiSecretKey, query);
    for (const [key, value] of Object.entries(query)) redirect.searchParams.set(key, value);
    res.writeHead(302, { Location: redirect.href });
    res.end();
  };

  const accessToken = async (req: IncomingMessage, res: ServerResponse, state: ShopState): Promise<void> => {
    if (req.method !== 'POST') throw jsonError(405, 'Method Not Allowed');
    const raw = await readBody(req, 64_000);
    const contentType = String(req.headers['content-type'] ?? '');
    let fields: Record<string, unknown>;
    try {
      fields = contentType.includes('json')
        ? (JSON.parse(raw) as Record<string, unknown>)
        : Object.fromEntries(new URLSearchParams(raw));
    } catch {
      throw new HttpError(
        400,
        JSON.stringify({ error: 'invalid_request', error_description: 'The body is not valid JSON' }),
      );
    }
    const invalid = (description: string, error = 'invalid_request') =>
      new HttpError(400, JSON.stringify({ error, error_description: description }));
    if (fields.client_id !== apiKey || fields.client_secret !== apiSecretKey)
      throw invalid('Client credentials are invalid', 'invalid_client');
    const grant = fields.grant_type ?? 'authorization_code';
    let answer: Record<string, unknown>;
    if (grant === 'authorization_code') {
      const code = typeof fields.code === 'string' ? oauthCodes.get(fields.code) : undefined;
      if (!code || code.shop !== state.identity.myshopifyDomain || code.expires < Date.now())
        throw invalid('The authorization code was not found or was already used', 'invalid_grant');
      oauthCodes.delete(fields.code as string);
      if (code.online) {
        answer = {
          ...mintToken(state, code.scope, ONLINE_TOKEN_TTL_SECONDS),
          associated_user_scope: code.scope,
          associated_user: {
            id: 902541635,
            first_name: 'Ada',
            last_name: 'Lovelace',
            email: `staff@${state.identity.myshopifyDomain}`,
            email_verified: true,
            account_owner: true,
            locale: 'en',
            collaborator: false,
          },
        };
      } else if (fields.expiring === '1' || fields.expiring === 1) {
        answer = { ...mintToken(state, code.scope, tokenTtlSeconds), ...mintRefreshToken(state, code.scope) };
      } else answer = mintToken(state, code.scope, null);
    } else if (grant === 'client_credentials') {
      answer = mintToken(state, appScopes, ONLINE_TOKEN_TTL_SECONDS);
    } else if (grant === 'refresh_token') {
      const refresh =
        typeof fields.refresh_token === 'string' ? state.refreshTokens.get(fields.refresh_token) : undefined;
      if (!refresh || refresh.expires <= Date.now())
        throw invalid('The refresh token is invalid or has expired', 'invalid_grant');
      state.refreshTokens.delete(fields.refresh_token as string);
      answer = { ...mintToken(state, refresh.scope, tokenTtlSeconds), ...mintRefreshToken(state, refresh.scope) };
    } else throw invalid(`Unsupported grant type ${String(grant)}`, 'unsupported_grant_type');
    res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(answer));
  };

  const mintToken = (state: ShopState, scope: string, ttlSeconds: number | null): Record<string, unknown> => {
    const token = `shpua_${randomBytes(16).toString('hex')}`;
    const scopes = new Set(
      scope
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    );
    state.tokens.set(token, { scopes, scope, expires: ttlSeconds === null ? null : Date.now() + ttlSeconds * 1000 });
    return ttlSeconds === null
      ? { access_token: token, scope }
      : { access_token: token, scope, expires_in: ttlSeconds };
  };

  const mintRefreshToken = (state: ShopState, scope: string): Record<string, unknown> => {
    const refreshToken = `shprt_${randomBytes(16).toString('hex')}`;
    state.refreshTokens.set(refreshToken, { scope, expires: Date.now() + REFRESH_TOKEN_TTL_SECONDS * 1000 });
    return { refresh_token: refreshToken, refresh_token_expires_in: REFRESH_TOKEN_TTL_SECONDS };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, record: ShopifyRequestRecord): Promise<void> => {
    serverStats.requests += 1;
    const url = new URL(req.url ?? '/', 'http://stand-in');
    if (latencyMs > 0) await sleep(latencyMs);
    const fault = faults.find((f) => f.remaining > 0 && (!f.match || f.match(record.path, record.method)));
    if (fault) {
      fault.remaining -= 1;
      faults = faults.filter((f) => f.remaining > 0);
      if (fault.status === 0) {
        req.socket.destroy();
        return;
      }
      throw jsonError(fault.status, fault.status === 503 ? 'Service Unavailable' : 'Internal Server Error');
    }
    const download = /^\/bulk-operation-results\/([0-9a-f]+)\/[^/]+\.jsonl$/.exec(url.pathname);
    if (download) {
      const file = bulkFiles.get(download[1] as string);
      if (!file || req.method !== 'GET')
        throw new HttpError(404, '<?xml version="1.0"?><Error><Code>NoSuchKey</Code></Error>', 'application/xml');
      file.shop.stats.bulkDownloads += 1;
      res.writeHead(200, { 'Content-Type': 'application/jsonl', 'Content-Length': file.body.length });
      res.end(file.body);
      return;
    }
    let path = url.pathname;
    let domain: string | undefined;
    const prefix = /^\/([a-z0-9][a-z0-9-]*\.myshopify\.com)(\/.*)$/.exec(path);
    if (prefix) {
      domain = prefix[1];
      path = prefix[2] as string;
    } else {
      const host = String(req.headers.host ?? '').replace(/:\d+$/, '');
      domain = shops.has(host) ? host : defaultShop.shopDomain;
    }
    const state = domain ? shops.get(domain) : undefined;
    if (!state) throw new HttpError(404, 'There is no store at this address.', 'text/plain');
    const api = /^\/admin\/api\/([^/]+)\/graphql\.json$/.exec(path);
    if (api) {
      const version = api[1] as string;
      if (!API_VERSION.test(version)) throw jsonError(404, 'Not Found');
      await graphql(req, res, state, version);
      return;
    }
    if (path === '/admin/oauth/authorize' && req.method === 'GET') return authorize(url, res, state);
    if (path === '/admin/oauth/access_token') return accessToken(req, res, state);
    throw jsonError(404, 'Not Found');
  };

  const server = createServer((req, res) => {
    const pathname = new URL(req.url ?? '/', 'http://stand-in').pathname;
    const prefixed = /^\/([a-z0-9][a-z0-9-]*\.myshopify\.com)(\/.*)$/.exec(pathname);
    const host = String(req.headers.host ?? '').replace(/:\d+$/, '');
    const record: ShopifyRequestRecord = {
      method: req.method ?? 'GET',
      path: prefixed ? (prefixed[2] as string) : pathname,
      shop: prefixed
        ? (prefixed[1] as string)
        : pathname.startsWith('/bulk-operation-results/')
          ? null
          : shops.has(host)
            ? host
            : defaultShop.shopDomain,
      status: 0,
      at: Date.now(),
    };
    requests.push(record);
    res.on('finish', () => {
      record.status = res.statusCode;
    });
    handle(req, res, record).catch((error: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (error instanceof HttpError) {
        res.writeHead(error.status, { 'Content-Type': error.contentType });
        res.end(error.body);
        return;
      }
      res.writeHead(500, { 'Content-Type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify({ errors: 'Internal Server Error' }));
    });
  });
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  origin = `http://127.0.0.1:${port}`;

  const defaultShop = addShop(options.shopDomain ?? 'plugboard-test.myshopify.com', {
    accessToken: options.accessToken,
  });
  for (const domain of options.shops ?? []) addShop(domain);

  const result: ShopifyServer = {
    url: origin,
    port,
    apiVersion,
    apiKey,
    apiSecretKey,
    shop: (domain) => shopState(domain).handle,
    addShop,
    shops: () => [...shops.values()].map((state) => state.handle),
    hosts: (domain) => shops.has(domain),
    // The default shop's handle, spread so that the server is one too.
    shopDomain: defaultShop.shopDomain,
    name: defaultShop.name,
    shopId: defaultShop.shopId,
    accessToken: defaultShop.accessToken,
    get shopUrl() {
      return defaultShop.shopUrl;
    },
    store: defaultShop.store,
    seed: defaultShop.seed,
    addProduct: defaultShop.addProduct,
    updateProduct: defaultShop.updateProduct,
    deleteProduct: defaultShop.deleteProduct,
    setInventory: defaultShop.setInventory,
    addCollection: defaultShop.addCollection,
    addLocation: defaultShop.addLocation,
    addCustomer: defaultShop.addCustomer,
    updateCustomer: defaultShop.updateCustomer,
    deleteCustomer: defaultShop.deleteCustomer,
    addOrder: defaultShop.addOrder,
    updateOrder: defaultShop.updateOrder,
    deleteOrder: defaultShop.deleteOrder,
    subscribeWebhook: defaultShop.subscribeWebhook,
    get webhookSubscriptions() {
      return defaultShop.webhookSubscriptions;
    },
    get webhookDeliveries() {
      return defaultShop.webhookDeliveries;
    },
    get bulkOperations() {
      return defaultShop.bulkOperations;
    },
    failNextBulkOperation: defaultShop.failNextBulkOperation,
    throttleStatus: defaultShop.throttleStatus,
    uninstallApp: defaultShop.uninstallApp,
    revokeToken: defaultShop.revokeToken,
    requests,
    requestCount: (pathPrefix) =>
      pathPrefix ? requests.filter((r) => r.path.startsWith(pathPrefix)).length : requests.length,
    failNext: (count, status = 503, match) => {
      faults.push({ remaining: count, status, match: match ?? null });
    },
    setLatency: (ms) => {
      latencyMs = ms;
    },
    setThrottle: defaultShop.setThrottle,
    stats: () => {
      const total: ServerStats = { ...defaultShop.stats(), ...serverStats };
      for (const state of shops.values()) {
        if (state.handle === defaultShop) continue;
        const stats = state.handle.stats();
        for (const key of Object.keys(stats) as (keyof ShopStats)[]) total[key] += stats[key];
      }
      return total;
    },
    close: async () => {
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
    },
  };
  return result;
}
