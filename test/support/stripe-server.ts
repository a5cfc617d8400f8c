/**
 * A local stand-in for api.stripe.com: a node:http server speaking Stripe's REST wire format well
 * enough for the real `stripe` SDK to be pointed at it:
 *
 *   const stripeServer = await startStripeServer();
 *   const stripe = new Stripe(stripeServer.apiKey, { ...stripeServer.sdkOptions(), maxNetworkRetries: 2 });
 *
 * It keeps a store per resource type, records Stripe events for every mutation like the real API
 * (`customer.created`, `customer.subscription.updated` with `previous_attributes`, …), serves the
 * list/retrieve endpoints with Stripe's pagination, filters and error shapes, accepts the common
 * create/update/delete calls, and can inject failures (429 / 5xx / connection resets) and latency.
 *
 * Lists are kept sorted by (created, id), so a page costs O(log n + page) whatever the store size.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import Stripe from 'stripe';
import {
  buildEvent,
  buildObject,
  buildPrice,
  deletedObject,
  nowSeconds,
  randomAlnum,
  requestId as newRequestId,
  type DeletedStripeObject,
  type Overrides,
  type StripeEvent,
  type StripeList,
  type StripeObject,
  type StripeResourceType,
} from './stripe-objects.ts';

export type {
  DeletedStripeObject,
  Overrides,
  StripeEvent,
  StripeList,
  StripeObject,
  StripeResourceType,
} from './stripe-objects.ts';

/** The API version the installed SDK sends (and that events are stamped with). */
export const STRIPE_API_VERSION: string = Stripe.API_VERSION;

export interface StripeServerOptions {
  /** The secret key requests must carry; default `sk_test_` + 32 random alphanumerics. */
  apiKey?: string;
  /** The clock, in unix seconds (default: wall clock). `setNow()` overrides it. */
  now?: () => number;
  /** Latency added to every response, in ms (see also `setLatency`). */
  delayMs?: number;
}

export interface StripeRequestRecord {
  method: string;
  path: string;
  /** The raw query string, with its leading `?` (or ''). */
  query: string;
  /** The status answered; 0 when the connection was reset by `failNext(…, 0)`. */
  status: number;
  requestId: string;
  idempotencyKey: string | null;
  stripeVersion: string | null;
  at: number;
}

export interface FailOptions {
  /** Sends `Stripe-Should-Retry: true|false`; default true for 429, no header otherwise. */
  shouldRetry?: boolean;
  message?: string;
}

export interface Mutation<T = StripeObject> {
  object: T;
  event: StripeEvent;
}

export interface SignedWebhook {
  body: string;
  headers: { 'stripe-signature': string; 'content-type': 'application/json' };
}

export interface StripeServer {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly apiKey: string;
  /** `{ host, port, protocol: 'http' }`, to spread into `new Stripe(key, { … })`. */
  sdkOptions(): { host: string; port: number; protocol: 'http' };
  close(): Promise<void>;

  /** The clock (unix seconds) used for `created` of new objects and events. */
  now(): number;
  /** Freezes the clock at `seconds` (null: back to the default clock). */
  setNow(seconds: number | null): void;
  setLatency(ms: number): void;

  /** Creates an object like the API would, and records its `…created` (or `charge.succeeded`, …) event. */
  create(type: StripeResourceType, overrides?: Overrides, eventType?: string): Mutation;
  /** Changes an object and records an event whose `data.previous_attributes` holds the old values. */
  update(type: StripeResourceType, id: string, changes: Overrides, eventType?: string): Mutation;
  /** Deletes (or, for subscriptions, cancels) an object and records its `…deleted` event. */
  remove(type: StripeResourceType, id: string): Mutation<StripeObject | DeletedStripeObject>;
  /** Bulk-inserts `count` objects without events, `created` spread evenly over the past year (oldest first). */
  seed(type: StripeResourceType, count: number, overrides?: Overrides | ((index: number) => Overrides)): StripeObject[];
  /** The live object (mutating it bypasses events and indexes: use `update`). */
  get(type: StripeResourceType, id: string): StripeObject | undefined;
  /** All objects of a type, newest first, as the list endpoint orders them. */
  list(type: StripeResourceType): StripeObject[];
  count(type: StripeResourceType): number;
  /** Every event recorded, in the order they happened. */
  events(): StripeEvent[];
  /** Empties all stores, events, request log, faults. */
  reset(): void;

  /** The next `count` requests (whose path `match` accepts) fail with `status` (0: the connection is reset). */
  failNext(count: number, status?: number, match?: (path: string) => boolean, options?: FailOptions): void;
  /** Every request received, in order (failed and rejected ones included). */
  readonly requests: readonly StripeRequestRecord[];
  /** How many requests hit a path starting with `pathPrefix` (all requests when omitted). */
  requestCount(pathPrefix?: string, method?: string): number;
  resetRequests(): void;

  /** An event (or any payload) as Stripe would POST it to a webhook endpoint, signed with `secret`. */
  signedWebhook(event: unknown, secret: string, timestamp?: number): SignedWebhook;
}

// ---------------------------------------------------------------------------------------------
// Sorted index: items ascending by (created, id); lists read it backwards (newest first).
// ---------------------------------------------------------------------------------------------

interface Keyed {
  id: string;
  created: number;
}

function compareKey(aCreated: number, aId: string, bCreated: number, bId: string): number {
  if (aCreated !== bCreated) return aCreated - bCreated;
  return aId < bId ? -1 : aId > bId ? 1 : 0;
}

function compareItems(a: Keyed, b: Keyed): number {
  return compareKey(a.created, a.id, b.created, b.id);
}

class SortedIndex<T extends Keyed> {
  items: T[] = [];
  dirty = false;

  /** First index whose key is >= (created, id). */
  lowerBound(created: number, id: string): number {
    this.settle();
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const item = this.items[mid] as T;
      if (compareKey(item.created, item.id, created, id) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** First index whose `created` is >= `created` ('' sorts before every id). */
  firstAtOrAfter(created: number): number {
    return this.lowerBound(created, '');
  }

  insert(item: T): void {
    this.settle();
    const last = this.items[this.items.length - 1];
    if (!last || compareItems(last, item) < 0) this.items.push(item);
    else this.items.splice(this.lowerBound(item.created, item.id), 0, item);
  }

  /** Appends without ordering; the next read sorts. */
  append(item: T): void {
    this.items.push(item);
    this.dirty = true;
  }

  remove(item: T): boolean {
    const at = this.lowerBound(item.created, item.id);
    if (this.items[at] !== item) return false;
    this.items.splice(at, 1);
    return true;
  }

  settle(): void {
    if (!this.dirty) return;
    this.dirty = false;
    const items = this.items;
    for (let i = 1; i < items.length; i++) {
      if (compareItems(items[i - 1] as T, items[i] as T) > 0) {
        items.sort(compareItems);
        return;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Per-type configuration
// ---------------------------------------------------------------------------------------------

type ListableType = StripeResourceType | 'event';

const PLURAL: Record<ListableType, string> = {
  customer: 'customers',
  subscription: 'subscriptions',
  subscription_item: 'subscription_items',
  invoice: 'invoices',
  payment_intent: 'payment_intents',
  charge: 'charges',
  refund: 'refunds',
  dispute: 'disputes',
  payout: 'payouts',
  product: 'products',
  price: 'prices',
  event: 'events',
};

const TYPE_BY_PLURAL = new Map<string, ListableType>(
  Object.entries(PLURAL).map(([type, plural]) => [plural, type as ListableType]),
);

/** Equality filters kept as indexes (field → value → sorted objects). */
const INDEXED: Record<StripeResourceType, readonly string[]> = {
  customer: [],
  subscription: ['customer'],
  subscription_item: ['subscription'],
  invoice: ['customer', 'subscription'],
  payment_intent: ['customer'],
  charge: ['customer', 'payment_intent'],
  refund: ['charge', 'payment_intent'],
  dispute: ['charge', 'payment_intent'],
  payout: [],
  product: [],
  price: ['product'],
};

interface ListSpec {
  /** Equality filters: `param=value` keeps objects whose field of that name stringifies to value. */
  eq: readonly string[];
  /** Range filters other than `created` (`due_date[gte]=…`), applied while scanning. */
  ranges: readonly string[];
  /** Other accepted parameters, handled specially. */
  special: readonly string[];
  required: readonly string[];
}

const LIST_SPECS: Record<ListableType, ListSpec> = {
  customer: { eq: ['email', 'test_clock'], ranges: [], special: [], required: [] },
  subscription: {
    eq: ['customer', 'collection_method', 'test_clock'],
    ranges: ['current_period_start', 'current_period_end'],
    special: ['status', 'price'],
    required: [],
  },
  subscription_item: { eq: ['subscription'], ranges: [], special: [], required: ['subscription'] },
  invoice: {
    eq: ['customer', 'subscription', 'status', 'collection_method'],
    ranges: ['due_date'],
    special: [],
    required: [],
  },
  payment_intent: { eq: ['customer'], ranges: [], special: [], required: [] },
  charge: { eq: ['customer', 'payment_intent', 'transfer_group'], ranges: [], special: [], required: [] },
  refund: { eq: ['charge', 'payment_intent'], ranges: [], special: [], required: [] },
  dispute: { eq: ['charge', 'payment_intent'], ranges: [], special: [], required: [] },
  payout: { eq: ['status', 'destination'], ranges: ['arrival_date'], special: [], required: [] },
  product: { eq: ['active', 'shippable', 'url'], ranges: [], special: ['ids'], required: [] },
  price: {
    eq: ['product', 'active', 'type', 'currency'],
    ranges: [],
    special: ['lookup_keys', 'recurring'],
    required: [],
  },
  event: { eq: [], ranges: [], special: ['type', 'types', 'delivery_success'], required: [] },
};

const SUBSCRIPTION_STATUSES = [
  'active',
  'past_due',
  'unpaid',
  'canceled',
  'incomplete',
  'incomplete_expired',
  'trialing',
  'paused',
  'all',
  'ended',
];
const INVOICE_STATUSES = ['draft', 'open', 'paid', 'uncollectible', 'void'];

/** Types whose retrieve answers `{id, object, deleted: true}` once deleted (others 404). */
const RETRIEVABLE_WHEN_DELETED = new Set<StripeResourceType>(['customer']);

const CREATED_EVENT: Record<StripeResourceType, string> = {
  customer: 'customer.created',
  subscription: 'customer.subscription.created',
  subscription_item: 'customer.subscription.updated',
  invoice: 'invoice.created',
  payment_intent: 'payment_intent.created',
  charge: 'charge.succeeded',
  refund: 'refund.created',
  dispute: 'charge.dispute.created',
  payout: 'payout.created',
  product: 'product.created',
  price: 'price.created',
};

function createdEventType(type: StripeResourceType, object: StripeObject): string {
  if (type === 'charge') {
    if (object.status === 'failed') return 'charge.failed';
    if (object.status === 'pending') return 'charge.pending';
  }
  return CREATED_EVENT[type];
}

/** The event Stripe sends for an update, judged from what changed; null when Stripe sends none. */
function updatedEventType(
  type: StripeResourceType,
  before: Record<string, unknown>,
  after: StripeObject,
): string | null {
  const statusChanged = 'status' in before && before.status !== after.status;
  const status = after.status;
  switch (type) {
    case 'customer':
      return 'customer.updated';
    case 'subscription':
    case 'subscription_item':
      if (type === 'subscription' && statusChanged) {
        if (status === 'canceled' || status === 'incomplete_expired') return 'customer.subscription.deleted';
        if (status === 'paused') return 'customer.subscription.paused';
        if (before.status === 'paused') return 'customer.subscription.resumed';
      }
      return 'customer.subscription.updated';
    case 'invoice':
      if (statusChanged) {
        if (status === 'paid') return 'invoice.paid';
        if (status === 'open' && before.status === 'draft') return 'invoice.finalized';
        if (status === 'void') return 'invoice.voided';
        if (status === 'uncollectible') return 'invoice.marked_uncollectible';
      }
      return 'invoice.updated';
    case 'payment_intent':
      if (statusChanged) {
        if (status === 'succeeded') return 'payment_intent.succeeded';
        if (status === 'canceled') return 'payment_intent.canceled';
        if (status === 'processing') return 'payment_intent.processing';
        if (status === 'requires_action') return 'payment_intent.requires_action';
        if (status === 'requires_capture') return 'payment_intent.amount_capturable_updated';
        if (status === 'requires_payment_method') return 'payment_intent.payment_failed';
      }
      if ('amount_capturable' in before) return 'payment_intent.amount_capturable_updated';
      return null; // Stripe has no payment_intent.updated
    case 'charge':
      if (statusChanged) {
        if (status === 'succeeded') return 'charge.succeeded';
        if (status === 'failed') return 'charge.failed';
        if (status === 'pending') return 'charge.pending';
      }
      if ('amount_refunded' in before && after.amount_refunded !== before.amount_refunded) return 'charge.refunded';
      if ('captured' in before && after.captured === true) return 'charge.captured';
      return 'charge.updated';
    case 'refund':
      return statusChanged && status === 'failed' ? 'refund.failed' : 'refund.updated';
    case 'dispute':
      return statusChanged && (status === 'won' || status === 'lost' || status === 'warning_closed')
        ? 'charge.dispute.closed'
        : 'charge.dispute.updated';
    case 'payout':
      if (statusChanged) {
        if (status === 'paid') return 'payout.paid';
        if (status === 'failed') return 'payout.failed';
        if (status === 'canceled') return 'payout.canceled';
      }
      return 'payout.updated';
    case 'product':
      return 'product.updated';
    case 'price':
      return 'price.updated';
  }
}

// ---------------------------------------------------------------------------------------------
// Errors and query parsing
// ---------------------------------------------------------------------------------------------

interface StripeErrorBody {
  type: string;
  message: string;
  code?: string;
  param?: string;
  doc_url?: string;
}

class ApiError extends Error {
  readonly status: number;
  readonly body: StripeErrorBody;
  readonly headers: Record<string, string>;
  constructor(status: number, body: StripeErrorBody, headers: Record<string, string> = {}) {
    super(body.message);
    this.status = status;
    this.body =
      body.code && !body.doc_url
        ? { ...body, doc_url: `https://stripe.com/docs/error-codes/${body.code.replace(/_/g, '-')}` }
        : body;
    this.headers = headers;
  }
}

function invalid(message: string, param?: string, code?: string, status = 400): ApiError {
  const body: StripeErrorBody = { type: 'invalid_request_error', message };
  if (code) body.code = code;
  if (param) body.param = param;
  return new ApiError(status, body);
}

function noSuch(objectName: string, id: string, param: string, status: number): ApiError {
  return invalid(`No such ${objectName}: '${id}'`, param, 'resource_missing', status);
}

type Params = Record<string, unknown>;

/** Parses Stripe's bracket syntax (`created[gte]=1`, `types[0]=a`, `types[]=b`, `metadata[k]=v`) like qs. */
export function parseStripeParams(search: string): Params {
  const root: Params = {};
  for (const [rawKey, value] of new URLSearchParams(search)) {
    const match = /^([^[\]]+)((?:\[[^[\]]*\])*)$/.exec(rawKey);
    if (!match) {
      root[rawKey] = value;
      continue;
    }
    const path = [
      match[1] as string,
      ...Array.from((match[2] ?? '').matchAll(/\[([^[\]]*)\]/g), (m) => m[1] as string),
    ];
    let node: Params = root;
    for (let i = 0; i < path.length; i++) {
      let key = path[i] as string;
      if (key === '') key = String(Object.keys(node).length);
      if (i === path.length - 1) {
        node[key] = value;
      } else {
        const next = node[key];
        if (next && typeof next === 'object') node = next as Params;
        else node = node[key] = {};
      }
    }
  }
  return arrayify(root) as Params;
}

/** Objects whose keys are 0..n-1 become arrays, recursively. */
function arrayify(value: unknown): unknown {
  if (!value || typeof value !== 'object') return value;
  const obj = value as Params;
  const keys = Object.keys(obj);
  for (const key of keys) obj[key] = arrayify(obj[key]);
  if (keys.length > 0 && keys.every((key, i) => key === String(i))) return keys.map((key) => obj[key]);
  return obj;
}

function parseInteger(value: unknown, param: string): number {
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return Number(value);
  throw invalid(
    `Invalid integer: ${typeof value === 'string' ? value : JSON.stringify(value)}`,
    param,
    'parameter_invalid_integer',
  );
}

interface Range {
  gt?: number;
  gte?: number;
  lt?: number;
  lte?: number;
}

function parseRange(value: unknown, param: string): Range {
  if (typeof value === 'string') {
    const exact = parseInteger(value, param);
    return { gte: exact, lte: exact };
  }
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw invalid(`Invalid ${param}: must be an integer or a hash`, param);
  const range: Range = {};
  for (const [op, raw] of Object.entries(value as Params)) {
    if (op !== 'gt' && op !== 'gte' && op !== 'lt' && op !== 'lte')
      throw invalid(`Received unknown parameter: ${param}[${op}]`, `${param}[${op}]`, 'parameter_unknown');
    range[op] = parseInteger(raw, `${param}[${op}]`);
  }
  return range;
}

function inRange(value: unknown, range: Range): boolean {
  if (typeof value !== 'number') return false;
  if (range.gt !== undefined && !(value > range.gt)) return false;
  if (range.gte !== undefined && !(value >= range.gte)) return false;
  if (range.lt !== undefined && !(value < range.lt)) return false;
  if (range.lte !== undefined && !(value <= range.lte)) return false;
  return true;
}

function stringList(value: unknown, param: string): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[];
  throw invalid(`Invalid array`, param, 'parameter_invalid_empty');
}

function maskKey(key: string): string {
  if (key.length <= 12) return key.replace(/.(?=.{4})/g, '*');
  const prefix = /^(sk|rk|pk)_(test|live)_/.exec(key)?.[0] ?? '';
  return prefix + '*'.repeat(key.length - prefix.length - 4) + key.slice(-4);
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

// ---------------------------------------------------------------------------------------------
// Stores
// ---------------------------------------------------------------------------------------------

interface TypeStore {
  byId: Map<string, StripeObject>;
  sorted: SortedIndex<StripeObject>;
  indexes: Map<string, Map<string, SortedIndex<StripeObject>>>;
  /** Deleted ids → their position key (cursors on a deleted object still work) and object name. */
  deleted: Map<string, { created: number; object: string }>;
}

function newTypeStore(type: StripeResourceType): TypeStore {
  return {
    byId: new Map(),
    sorted: new SortedIndex(),
    indexes: new Map(INDEXED[type].map((field) => [field, new Map()])),
    deleted: new Map(),
  };
}

const ALL_TYPES = Object.keys(INDEXED) as StripeResourceType[];

// ---------------------------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------------------------

interface Fault {
  remaining: number;
  status: number;
  match: ((path: string) => boolean) | undefined;
  options: FailOptions;
}

export async function startStripeServer(options: StripeServerOptions = {}): Promise<StripeServer> {
  const apiKey = options.apiKey ?? `sk_test_${randomAlnum(32)}`;
  let frozenNow: number | null = null;
  let latencyMs = options.delayMs ?? 0;
  const clock = options.now ?? nowSeconds;
  const now = (): number => frozenNow ?? clock();

  let stores = new Map<StripeResourceType, TypeStore>(ALL_TYPES.map((type) => [type, newTypeStore(type)]));
  let eventStore = new SortedIndex<StripeEvent>();
  let eventsById = new Map<string, StripeEvent>();
  let eventLog: StripeEvent[] = [];
  const requests: StripeRequestRecord[] = [];
  let faults: Fault[] = [];
  let idempotent = new Map<string, { status: number; payload: string }>();
  /** Embedded in subscriptions created while no price is stored (one shared object, never stored). */
  let fallbackPrice: StripeObject | null = null;
  const priceCursor = { next: 0 };

  const store = (type: StripeResourceType): TypeStore => stores.get(type) as TypeStore;

  // --- indexes ------------------------------------------------------------------------------

  function indexValue(object: StripeObject, field: string): string | null {
    const value = object[field];
    return typeof value === 'string' ? value : null;
  }

  function addToIndexes(type: StripeResourceType, object: StripeObject, bulk: boolean): void {
    const s = store(type);
    for (const [field, buckets] of s.indexes) {
      const value = indexValue(object, field);
      if (value === null) continue;
      let bucket = buckets.get(value);
      if (!bucket) {
        bucket = new SortedIndex();
        buckets.set(value, bucket);
      }
      if (bulk) bucket.append(object);
      else bucket.insert(object);
    }
  }

  function removeFromIndexes(type: StripeResourceType, object: StripeObject): void {
    const s = store(type);
    for (const [field, buckets] of s.indexes) {
      const value = indexValue(object, field);
      if (value === null) continue;
      const bucket = buckets.get(value);
      if (!bucket) continue;
      bucket.remove(object);
      if (bucket.items.length === 0) buckets.delete(value);
    }
  }

  function insert(type: StripeResourceType, object: StripeObject, bulk = false): void {
    const s = store(type);
    if (s.byId.has(object.id)) throw new Error(`stripe-server: a ${type} with id ${object.id} already exists`);
    s.byId.set(object.id, object);
    if (bulk) s.sorted.append(object);
    else s.sorted.insert(object);
    addToIndexes(type, object, bulk);
  }

  function unlink(type: StripeResourceType, object: StripeObject): void {
    const s = store(type);
    s.byId.delete(object.id);
    s.sorted.remove(object);
    removeFromIndexes(type, object);
    s.deleted.set(object.id, { created: object.created, object: object.object });
  }

  function mustGet(type: StripeResourceType, id: string): StripeObject {
    const object = store(type).byId.get(id);
    if (!object) throw new Error(`stripe-server: no ${type} ${id}`);
    return object;
  }

  function randomStored(type: StripeResourceType): StripeObject | undefined {
    const items = store(type).sorted.items;
    return items.length === 0 ? undefined : items[Math.floor(Math.random() * items.length)];
  }

  // --- events ---------------------------------------------------------------------------------

  function emit(
    type: string,
    object: StripeObject,
    previousAttributes?: Record<string, unknown>,
    request?: { id: string | null; idempotency_key: string | null },
  ): StripeEvent {
    const options: Parameters<typeof buildEvent>[0] = {
      type,
      object: clone(object),
      created: now(),
      apiVersion: STRIPE_API_VERSION,
    };
    if (previousAttributes) options.previousAttributes = clone(previousAttributes);
    if (request) options.request = request;
    const event = buildEvent(options);
    while (eventsById.has(event.id)) event.id = `evt_${randomAlnum(24)}`;
    eventsById.set(event.id, event);
    eventStore.insert(event);
    eventLog.push(event);
    return event;
  }

  // --- relations: references default to stored objects -----------------------------------------

  function resolvePrice(value: unknown): StripeObject {
    if (value && typeof value === 'object') return value as StripeObject;
    if (typeof value === 'string') {
      const price = store('price').byId.get(value);
      if (!price) throw invalid(`No such price: '${value}'`, 'price', 'resource_missing');
      return price;
    }
    const prices = store('price').sorted.items;
    if (prices.length > 0) {
      for (let tries = 0; tries < prices.length && tries < 20; tries++) {
        const candidate = prices[priceCursor.next++ % prices.length] as StripeObject;
        if (candidate.recurring) return candidate;
      }
    }
    fallbackPrice ??= buildPrice({
      type: 'recurring',
      active: true,
      created: now() - 400 * 86_400,
      recurring: { interval: 'month', interval_count: 1, meter: null, trial_period_days: null, usage_type: 'licensed' },
    });
    return fallbackPrice;
  }

  function relate(type: StripeResourceType, given: Overrides): Overrides {
    const o: Overrides = { ...given };
    const has = (key: string): boolean => Object.hasOwn(o, key);
    const pickRef = (key: string, refType: StripeResourceType): StripeObject | undefined => {
      if (has(key)) return typeof o[key] === 'string' ? store(refType).byId.get(o[key] as string) : undefined;
      const ref = randomStored(refType);
      if (ref) o[key] = ref.id;
      return ref;
    };
    switch (type) {
      case 'subscription': {
        pickRef('customer', 'customer');
        if (Array.isArray(o.items)) {
          o.items = (o.items as Overrides[]).map((item) =>
            item.object === 'subscription_item' ? item : { ...item, price: resolvePrice(item.price) },
          );
        } else if (!has('items')) {
          o.price = resolvePrice(o.price);
        }
        break;
      }
      case 'subscription_item':
        o.price = resolvePrice(o.price);
        break;
      case 'invoice': {
        let subscription = has('subscription')
          ? typeof o.subscription === 'string'
            ? store('subscription').byId.get(o.subscription)
            : undefined
          : undefined;
        if (!has('subscription') && !has('customer')) {
          subscription = Math.random() < 0.7 ? randomStored('subscription') : undefined;
          o.subscription = subscription?.id ?? null;
        }
        if (subscription) {
          if (!has('customer')) o.customer = subscription.customer;
          if (!has('currency')) o.currency = subscription.currency;
        } else {
          pickRef('customer', 'customer');
          if (!has('subscription')) o.subscription = null;
        }
        break;
      }
      case 'payment_intent': {
        const invoice =
          has('invoice') && typeof o.invoice === 'string' ? store('invoice').byId.get(o.invoice) : undefined;
        if (invoice) {
          if (!has('customer')) o.customer = invoice.customer;
          if (!has('amount')) o.amount = invoice.amount_due;
          if (!has('currency')) o.currency = invoice.currency;
        } else {
          pickRef('customer', 'customer');
        }
        break;
      }
      case 'charge': {
        const pi = pickRef('payment_intent', 'payment_intent');
        if (pi) {
          if (!has('customer')) o.customer = pi.customer;
          if (!has('amount')) o.amount = pi.amount;
          if (!has('currency')) o.currency = pi.currency;
          if (!has('invoice')) o.invoice = pi.invoice ?? null;
        } else {
          pickRef('customer', 'customer');
        }
        break;
      }
      case 'refund':
      case 'dispute': {
        let charge = pickRef('charge', 'charge');
        if (!charge && !has('charge') && typeof o.payment_intent === 'string') {
          const pi = store('payment_intent').byId.get(o.payment_intent);
          const latest = typeof pi?.latest_charge === 'string' ? store('charge').byId.get(pi.latest_charge) : undefined;
          if (latest) {
            charge = latest;
            o.charge = latest.id;
          }
        }
        if (charge) {
          if (!has('payment_intent')) o.payment_intent = charge.payment_intent;
          if (!has('currency')) o.currency = charge.currency;
          if (type === 'refund') {
            if (!has('customer')) o.customer = charge.customer ?? null;
            if (!has('amount'))
              o.amount = Math.max(1, (charge.amount as number) - ((charge.amount_refunded as number) ?? 0));
          } else if (!has('amount')) {
            o.amount = charge.amount;
          }
        }
        break;
      }
      case 'price':
        pickRef('product', 'product');
        break;
      default:
        break;
    }
    return o;
  }

  // --- mutators -------------------------------------------------------------------------------

  function attachItem(item: StripeObject, subscription: StripeObject): void {
    const list = subscription.items as StripeList;
    list.data.push(item);
    list.total_count = list.data.length;
  }

  function create(
    type: StripeResourceType,
    overrides: Overrides = {},
    eventType?: string,
    request?: StripeEvent['request'],
  ): Mutation {
    const o = relate(type, overrides);
    if (o.created === undefined) o.created = now();
    let parent: StripeObject | undefined;
    if (type === 'subscription_item') {
      parent = typeof o.subscription === 'string' ? store('subscription').byId.get(o.subscription) : undefined;
      if (!parent)
        throw new Error("stripe-server: create('subscription_item') needs `subscription` set to a stored subscription");
    }
    const previousItems = parent ? clone(parent.items) : undefined;
    const object = buildObject(type, o, { now: now() });
    insert(type, object);

    if (type === 'subscription') {
      for (const item of (object.items as StripeList).data) {
        item.subscription = object.id;
        insert('subscription_item', item);
      }
    }
    if (type === 'subscription_item' && parent) {
      attachItem(object, parent);
      const event = emit(eventType ?? 'customer.subscription.updated', parent, { items: previousItems }, request);
      return { object, event };
    }

    const event = emit(eventType ?? createdEventType(type, object), object, undefined, request);

    // Knock-on effects Stripe has too.
    if (type === 'refund' && typeof object.charge === 'string' && object.status !== 'failed') {
      const charge = store('charge').byId.get(object.charge);
      if (charge) {
        const refunded = ((charge.amount_refunded as number) ?? 0) + (object.amount as number);
        update(
          'charge',
          charge.id,
          { amount_refunded: refunded, refunded: refunded >= (charge.amount as number) },
          'charge.refunded',
        );
      }
    }
    if (type === 'dispute' && typeof object.charge === 'string') {
      const charge = store('charge').byId.get(object.charge);
      if (charge) charge.disputed = true;
    }
    return { object, event };
  }

  /** Fields Stripe changes alongside the ones asked for. */
  function knockOn(type: StripeResourceType, object: StripeObject, changes: Overrides): Overrides {
    const extra: Overrides = {};
    const t = now();
    if (type === 'subscription' && changes.status === 'canceled' && object.status !== 'canceled') {
      if (!('canceled_at' in changes)) extra.canceled_at = t;
      if (!('ended_at' in changes)) extra.ended_at = t;
    }
    if (type === 'invoice' && changes.status === 'paid' && object.status !== 'paid') {
      if (!('amount_paid' in changes)) extra.amount_paid = object.amount_due;
      if (!('amount_remaining' in changes)) extra.amount_remaining = 0;
      extra.status_transitions = { ...(object.status_transitions as object), paid_at: t };
    }
    if (type === 'charge' && 'amount_refunded' in changes && !('refunded' in changes)) {
      extra.refunded = (changes.amount_refunded as number) >= (object.amount as number);
    }
    if (type === 'payment_intent' && changes.status === 'succeeded' && !('amount_received' in changes)) {
      extra.amount_received = changes.amount ?? object.amount;
    }
    return extra;
  }

  function update(
    type: StripeResourceType,
    id: string,
    changes: Overrides,
    eventType?: string,
    request?: StripeEvent['request'],
  ): Mutation {
    const object = mustGet(type, id);
    const all: Overrides = { ...changes, ...knockOn(type, object, changes) };
    delete all.id;
    delete all.object;
    const next: Overrides = {};
    const previous: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(all)) {
      let nextValue = value;
      if (key === 'metadata' && value && typeof value === 'object') {
        // Stripe merges metadata; '' or null unsets a key.
        const merged: Record<string, unknown> = { ...(object.metadata as Record<string, unknown>) };
        for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
          if (v === '' || v === null) delete merged[k];
          else merged[k] = v;
        }
        nextValue = merged;
      }
      if (sameValue(object[key], nextValue)) continue;
      next[key] = nextValue;
      previous[key] = object[key] === undefined ? null : clone(object[key]);
    }
    const parent =
      type === 'subscription_item' && typeof object.subscription === 'string'
        ? store('subscription').byId.get(object.subscription)
        : undefined;
    const previousItems = parent ? clone(parent.items) : undefined;

    const reindex = 'created' in next || INDEXED[type].some((field) => field in next);
    if (reindex) {
      store(type).sorted.remove(object);
      removeFromIndexes(type, object);
    }
    Object.assign(object, next);
    if (reindex) {
      store(type).sorted.insert(object);
      addToIndexes(type, object, false);
    }

    if (type === 'subscription_item') {
      if (!parent)
        throw new Error(`stripe-server: subscription item ${id} has no stored subscription to report the change on`);
      return {
        object,
        event: emit(eventType ?? 'customer.subscription.updated', parent, { items: previousItems }, request),
      };
    }
    const resolved = eventType ?? updatedEventType(type, previous, object);
    if (!resolved) {
      throw new Error(
        `stripe-server: Stripe sends no event for this ${type} change (${Object.keys(changes).join(', ')}); pass an eventType`,
      );
    }
    return { object, event: emit(resolved, object, previous, request) };
  }

  function remove(
    type: StripeResourceType,
    id: string,
    request?: StripeEvent['request'],
  ): Mutation<StripeObject | DeletedStripeObject> {
    const object = mustGet(type, id);
    switch (type) {
      case 'subscription':
        // DELETE /v1/subscriptions/:id cancels: the subscription stays, canceled.
        if (object.status === 'canceled')
          throw invalid(
            `A canceled subscription can only update its cancellation_details and metadata.`,
            undefined,
            'subscription_canceled',
          );
        return update('subscription', id, { status: 'canceled' }, 'customer.subscription.deleted', request);
      case 'customer': {
        // Deleting a customer cancels its subscriptions first.
        const subs = store('subscription').indexes.get('customer')?.get(id)?.items ?? [];
        for (const sub of [...subs])
          if (sub.status !== 'canceled' && sub.status !== 'incomplete_expired')
            update('subscription', sub.id, { status: 'canceled' }, 'customer.subscription.deleted', request);
        unlink('customer', object);
        return { object: deletedObject(object), event: emit('customer.deleted', object, undefined, request) };
      }
      case 'product':
      case 'price':
        unlink(type, object);
        return { object: deletedObject(object), event: emit(`${type}.deleted`, object, undefined, request) };
      case 'invoice':
        if (object.status !== 'draft')
          throw invalid(`You can only delete draft invoices.`, undefined, 'invoice_not_editable');
        unlink('invoice', object);
        return { object: deletedObject(object), event: emit('invoice.deleted', object, undefined, request) };
      case 'subscription_item': {
        const parent =
          typeof object.subscription === 'string' ? store('subscription').byId.get(object.subscription) : undefined;
        if (!parent)
          throw new Error(`stripe-server: subscription item ${id} has no stored subscription to report the change on`);
        const previousItems = clone(parent.items);
        const list = parent.items as StripeList;
        list.data = list.data.filter((item) => item.id !== id);
        list.total_count = list.data.length;
        unlink('subscription_item', object);
        return {
          object: deletedObject(object),
          event: emit('customer.subscription.updated', parent, { items: previousItems }, request),
        };
      }
      default:
        throw new Error(
          `stripe-server: Stripe cannot delete a ${type}; update its status instead (e.g. canceled, failed)`,
        );
    }
  }

  function seed(
    type: StripeResourceType,
    count: number,
    overrides: Overrides | ((index: number) => Overrides) = {},
  ): StripeObject[] {
    const end = now();
    const span = 365 * 86_400;
    const start = end - span;
    const created: StripeObject[] = new Array(count);
    const touched = new Set<StripeResourceType>([type]);
    for (let i = 0; i < count; i++) {
      const given = typeof overrides === 'function' ? overrides(i) : overrides;
      const o = relate(type, given);
      if (o.created === undefined) o.created = start + Math.floor(((i + 1) * span) / count);
      const object = buildObject(type, o, { now: end });
      insert(type, object, true);
      if (type === 'subscription') {
        touched.add('subscription_item');
        for (const item of (object.items as StripeList).data) {
          item.subscription = object.id;
          insert('subscription_item', item, true);
        }
      } else if (type === 'subscription_item' && typeof object.subscription === 'string') {
        const parent = store('subscription').byId.get(object.subscription);
        if (parent) attachItem(object, parent);
      }
      created[i] = object;
    }
    for (const t of touched) {
      const s = store(t);
      s.sorted.settle();
      for (const buckets of s.indexes.values()) for (const bucket of buckets.values()) bucket.settle();
    }
    return created;
  }

  // --- listing --------------------------------------------------------------------------------

  function listPage(type: ListableType, params: Params): { data: Keyed[]; has_more: boolean } {
    const spec = LIST_SPECS[type];
    const allowed = new Set([
      'limit',
      'starting_after',
      'ending_before',
      'created',
      'expand',
      ...spec.eq,
      ...spec.ranges,
      ...spec.special,
    ]);
    for (const key of Object.keys(params)) {
      if (!allowed.has(key)) throw invalid(`Received unknown parameter: ${key}`, key, 'parameter_unknown');
    }
    for (const key of spec.required) {
      if (params[key] === undefined || params[key] === '')
        throw invalid(`Missing required param: ${key}.`, key, 'parameter_missing');
    }

    let limit = 10;
    if (params.limit !== undefined) {
      limit = parseInteger(params.limit, 'limit');
      if (limit < 1 || limit > 100) throw invalid('Invalid limit: must be between 1 and 100', 'limit');
    }
    if (params.starting_after !== undefined && params.ending_before !== undefined) {
      throw invalid('You may only specify one of these parameters: ending_before, starting_after.', 'ending_before');
    }

    // Source: the whole type, or an index bucket for an indexed equality filter.
    let source: SortedIndex<Keyed> | undefined;
    const predicates: Array<(item: Keyed) => boolean> = [];
    const objectName = type;
    let lookupCursor: (id: string) => Keyed | undefined;

    if (type === 'event') {
      source = eventStore as SortedIndex<Keyed>;
      lookupCursor = (id) => eventsById.get(id);
      if (params.type !== undefined) {
        const wanted = String(params.type);
        if (wanted.includes('*')) {
          const re = new RegExp(
            `^${wanted
              .split('*')
              .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
              .join('.*')}$`,
          );
          predicates.push((e) => re.test((e as StripeEvent).type));
        } else {
          predicates.push((e) => (e as StripeEvent).type === wanted);
        }
      }
      if (params.types !== undefined) {
        if (params.type !== undefined)
          throw invalid('You may only specify one of these parameters: type, types.', 'types');
        const types = new Set(stringList(params.types, 'types'));
        if (types.size > 20) throw invalid('You may only filter on up to 20 event types.', 'types');
        predicates.push((e) => types.has((e as StripeEvent).type));
      }
    } else {
      const s = store(type);
      lookupCursor = (id) =>
        s.byId.get(id) ??
        (s.deleted.has(id) ? { id, created: (s.deleted.get(id) as { created: number }).created } : undefined);
      for (const field of spec.eq) {
        const value = params[field];
        if (value === undefined) continue;
        if (typeof value !== 'string') throw invalid(`Invalid string: ${JSON.stringify(value)}`, field);
        if (field === 'status' && type === 'invoice' && !INVOICE_STATUSES.includes(value)) {
          throw invalid(`Invalid status: must be one of ${INVOICE_STATUSES.join(', ')}`, 'status');
        }
        if (type === 'subscription_item' && field === 'subscription' && !store('subscription').byId.has(value)) {
          throw noSuch('subscription', value, 'subscription', 400);
        }
        const buckets = s.indexes.get(field);
        if (buckets && !source) {
          source = (buckets.get(value) ?? new SortedIndex<StripeObject>()) as SortedIndex<Keyed>;
        } else {
          predicates.push((o) => String((o as StripeObject)[field]) === value);
        }
      }
      for (const field of spec.ranges) {
        if (params[field] === undefined) continue;
        const range = parseRange(params[field], field);
        predicates.push((o) => inRange((o as StripeObject)[field], range));
      }
      if (type === 'subscription') {
        const status = params.status === undefined ? undefined : String(params.status);
        if (status !== undefined && !SUBSCRIPTION_STATUSES.includes(status)) {
          throw invalid(`Invalid status: must be one of ${SUBSCRIPTION_STATUSES.join(', ')}`, 'status');
        }
        if (status === undefined) predicates.push((o) => (o as StripeObject).status !== 'canceled');
        else if (status === 'ended')
          predicates.push(
            (o) => (o as StripeObject).status === 'canceled' || (o as StripeObject).status === 'incomplete_expired',
          );
        else if (status !== 'all') predicates.push((o) => (o as StripeObject).status === status);
        if (params.price !== undefined) {
          const price = String(params.price);
          predicates.push((o) =>
            ((o as StripeObject).items as StripeList).data.some(
              (item) => (item.price as StripeObject | undefined)?.id === price,
            ),
          );
        }
      }
      if (type === 'product' && params.ids !== undefined) {
        const ids = new Set(stringList(params.ids, 'ids'));
        predicates.push((o) => ids.has(o.id));
      }
      if (type === 'price') {
        if (params.lookup_keys !== undefined) {
          const keys = new Set(stringList(params.lookup_keys, 'lookup_keys'));
          predicates.push((o) => keys.has(String((o as StripeObject).lookup_key)));
        }
        if (params.recurring !== undefined) {
          const recurring = params.recurring as Params;
          predicates.push((o) => {
            const r = (o as StripeObject).recurring as Record<string, unknown> | null;
            if (!r) return false;
            return Object.entries(recurring).every(([k, v]) => String(r[k]) === v);
          });
        }
      }
      source ??= s.sorted as SortedIndex<Keyed>;
    }

    source.settle();
    const items = source.items;
    let lo = 0;
    let hi = items.length;
    if (params.created !== undefined) {
      const range = parseRange(params.created, 'created');
      if (range.gte !== undefined) lo = Math.max(lo, source.firstAtOrAfter(range.gte));
      if (range.gt !== undefined) lo = Math.max(lo, source.firstAtOrAfter(range.gt + 1));
      if (range.lte !== undefined) hi = Math.min(hi, source.firstAtOrAfter(range.lte + 1));
      if (range.lt !== undefined) hi = Math.min(hi, source.firstAtOrAfter(range.lt));
    }
    const cursorParam =
      params.starting_after !== undefined
        ? 'starting_after'
        : params.ending_before !== undefined
          ? 'ending_before'
          : null;
    if (cursorParam) {
      const id = params[cursorParam];
      if (typeof id !== 'string' || id === '') throw invalid(`Invalid string: ${JSON.stringify(id)}`, cursorParam);
      const cursor = lookupCursor(id);
      if (!cursor) throw noSuch(objectName, id, cursorParam, 400);
      const at = source.lowerBound(cursor.created, cursor.id);
      if (cursorParam === 'starting_after') hi = Math.min(hi, at);
      else lo = Math.max(lo, items[at] && items[at].id === cursor.id ? at + 1 : at);
    }

    const page: Keyed[] = [];
    let hasMore = false;
    const accepts = (item: Keyed): boolean => {
      for (const predicate of predicates) if (!predicate(item)) return false;
      return true;
    };
    if (cursorParam === 'ending_before') {
      // The `limit` objects just newer than the cursor, still answered newest first.
      for (let i = lo; i < hi; i++) {
        const item = items[i] as Keyed;
        if (!accepts(item)) continue;
        if (page.length === limit) {
          hasMore = true;
          break;
        }
        page.push(item);
      }
      page.reverse();
    } else {
      for (let i = hi - 1; i >= lo; i--) {
        const item = items[i] as Keyed;
        if (!accepts(item)) continue;
        if (page.length === limit) {
          hasMore = true;
          break;
        }
        page.push(item);
      }
    }
    return { data: page, has_more: hasMore };
  }

  // --- HTTP write support: form params → object fields ----------------------------------------

  /** Form values are strings: coerce them to the types of the corresponding fields of `template`. */
  function coerce(params: Params, template: Record<string, unknown>, path: string): Params {
    const out: Params = {};
    for (const [key, value] of Object.entries(params)) {
      if (!path && IGNORED_WRITE_PARAMS.has(key)) continue;
      const param = path ? `${path}[${key}]` : key;
      if (!(key in template)) throw invalid(`Received unknown parameter: ${param}`, param, 'parameter_unknown');
      const current = template[key];
      if (key === 'metadata') {
        if (value === '')
          out[key] = Object.fromEntries(Object.keys((template.metadata as object) ?? {}).map((k) => [k, '']));
        else out[key] = value;
      } else if (value === '') {
        out[key] = null;
      } else if (typeof value === 'string' && typeof current === 'number') {
        out[key] = parseInteger(value, param);
      } else if (typeof value === 'string' && typeof current === 'boolean') {
        if (value !== 'true' && value !== 'false') throw invalid(`Invalid boolean: ${value}`, param);
        out[key] = value === 'true';
      } else if (
        value &&
        typeof value === 'object' &&
        !Array.isArray(value) &&
        current &&
        typeof current === 'object'
      ) {
        out[key] = { ...(current as object), ...coerce(value as Params, current as Record<string, unknown>, param) };
      } else {
        out[key] = value;
      }
    }
    return out;
  }

  const READ_ONLY = new Set(['id', 'object', 'created', 'livemode', 'deleted']);
  /** Write parameters that steer the call rather than set a field: accepted and ignored. */
  const IGNORED_WRITE_PARAMS = new Set([
    'expand',
    'payment_behavior',
    'proration_behavior',
    'proration_date',
    'off_session',
    'return_url',
    'confirm',
    'trial_period_days',
    'invoice_now',
    'prorate',
  ]);

  /** What a create call leaves unset: Stripe's defaults, not random values. */
  function createDefaults(type: StripeResourceType, params: Params): Overrides {
    switch (type) {
      case 'customer':
        return {
          name: null,
          email: null,
          description: null,
          phone: null,
          balance: 0,
          currency: null,
          delinquent: false,
          metadata: {},
        };
      case 'product':
        return { active: true, description: null, default_price: null, metadata: {} };
      case 'price':
        return {
          active: true,
          lookup_key: null,
          nickname: null,
          type: params.recurring ? 'recurring' : 'one_time',
          metadata: {},
        };
      case 'subscription':
        return {
          status: params.trial_period_days || params.trial_end ? 'trialing' : 'active',
          latest_invoice: null,
          metadata: {},
        };
      case 'payment_intent':
        return {
          status: params.confirm === 'true' ? 'succeeded' : 'requires_payment_method',
          latest_charge: null,
          payment_method: null,
          customer: null,
          description: null,
          metadata: {},
        };
      case 'refund':
        return { status: 'succeeded', reason: null, metadata: {} };
      case 'payout':
        return { status: 'pending', metadata: {} };
      case 'invoice':
        return { status: 'draft', metadata: {} };
      default:
        return { metadata: {} };
    }
  }

  function httpCreate(type: StripeResourceType, params: Params, request: StripeEvent['request']): StripeObject {
    const p: Params = { ...params };
    const extra: Overrides = {};
    if (type === 'subscription') {
      if (typeof p.customer !== 'string')
        throw invalid('Missing required param: customer.', 'customer', 'parameter_missing');
      if (!store('customer').byId.has(p.customer)) throw noSuch('customer', p.customer, 'customer', 400);
      const items = p.items;
      if (!Array.isArray(items) || items.length === 0)
        throw invalid('Missing required param: items.', 'items', 'parameter_missing');
      extra.items = (items as Params[]).map((item, i) => {
        if (typeof item.price !== 'string')
          throw invalid('Missing required param: items[0][price].', `items[${i}][price]`, 'parameter_missing');
        return {
          price: resolvePrice(item.price),
          quantity: item.quantity === undefined ? 1 : parseInteger(item.quantity, `items[${i}][quantity]`),
        };
      });
      delete p.items;
      delete p.trial_period_days;
    }
    if (type === 'subscription_item') {
      if (typeof p.subscription !== 'string')
        throw invalid('Missing required param: subscription.', 'subscription', 'parameter_missing');
      if (!store('subscription').byId.has(p.subscription))
        throw noSuch('subscription', p.subscription, 'subscription', 400);
      if (typeof p.price !== 'string') throw invalid('Missing required param: price.', 'price', 'parameter_missing');
      extra.price = resolvePrice(p.price);
      delete p.price;
    }
    if (type === 'refund' || type === 'dispute') {
      if (typeof p.charge === 'string' && !store('charge').byId.has(p.charge))
        throw noSuch('charge', p.charge, 'charge', 400);
      if (typeof p.charge !== 'string' && typeof p.payment_intent !== 'string') {
        throw invalid(
          'One of the following params should be provided for this request: payment_intent or charge.',
          undefined,
          'parameter_missing',
        );
      }
    }
    if (type === 'payment_intent') delete p.confirm;
    if (type === 'price' && typeof p.product === 'string' && !store('product').byId.has(p.product))
      throw noSuch('product', p.product, 'product', 400);
    const template = buildObject(type, {}, { now: now() });
    if (type === 'price')
      template.recurring = {
        interval: 'month',
        interval_count: 1,
        meter: null,
        trial_period_days: null,
        usage_type: 'licensed',
      };
    for (const key of Object.keys(p))
      if (READ_ONLY.has(key)) throw invalid(`Received unknown parameter: ${key}`, key, 'parameter_unknown');
    const overrides = { ...createDefaults(type, params), ...coerce(p, template, ''), ...extra };
    if (type === 'price' && overrides.unit_amount !== undefined && overrides.unit_amount_decimal === undefined) {
      overrides.unit_amount_decimal = overrides.unit_amount === null ? null : String(overrides.unit_amount);
    }
    return create(type, overrides, undefined, request).object;
  }

  function httpUpdate(
    type: StripeResourceType,
    id: string,
    params: Params,
    request: StripeEvent['request'],
  ): StripeObject {
    const object = store(type).byId.get(id);
    if (!object) throw noSuch(type, id, 'id', 404);
    for (const key of Object.keys(params))
      if (READ_ONLY.has(key)) throw invalid(`Received unknown parameter: ${key}`, key, 'parameter_unknown');
    const p: Params = { ...params };
    const extra: Overrides = {};
    if (type === 'subscription_item' && typeof p.price === 'string') {
      extra.price = resolvePrice(p.price);
      delete p.price;
    }
    const changes = { ...coerce(p, object, ''), ...extra };
    if (Object.keys(changes).length === 0) return object;
    const eventType =
      type === 'payment_intent'
        ? updatedEventType(type, pickKeys(object, changes), { ...object, ...changes })
        : undefined;
    if (type === 'payment_intent' && !eventType) {
      // Stripe records no event for e.g. a metadata change on a PaymentIntent.
      applySilently(type, object, changes);
      return object;
    }
    return update(type, id, changes, eventType ?? undefined, request).object;
  }

  function pickKeys(object: StripeObject, changes: Overrides): Record<string, unknown> {
    return Object.fromEntries(Object.keys(changes).map((key) => [key, object[key]]));
  }

  function applySilently(type: StripeResourceType, object: StripeObject, changes: Overrides): void {
    const reindex = INDEXED[type].some((field) => field in changes);
    if (reindex) removeFromIndexes(type, object);
    if (changes.metadata && typeof changes.metadata === 'object') {
      const merged: Record<string, unknown> = { ...(object.metadata as Record<string, unknown>) };
      for (const [k, v] of Object.entries(changes.metadata as Record<string, unknown>)) {
        if (v === '' || v === null) delete merged[k];
        else merged[k] = v;
      }
      changes = { ...changes, metadata: merged };
    }
    Object.assign(object, changes);
    if (reindex) addToIndexes(type, object, false);
  }

  const DELETABLE = new Set<StripeResourceType>([
    'customer',
    'product',
    'invoice',
    'subscription',
    'subscription_item',
  ]);
  const CREATABLE = new Set<StripeResourceType>([
    'customer',
    'product',
    'price',
    'subscription',
    'subscription_item',
    'invoice',
    'payment_intent',
    'refund',
    'payout',
  ]);
  const UPDATABLE = new Set<StripeResourceType>([
    'customer',
    'product',
    'price',
    'subscription',
    'subscription_item',
    'invoice',
    'payment_intent',
    'charge',
    'refund',
    'dispute',
    'payout',
  ]);

  // --- HTTP -----------------------------------------------------------------------------------

  function authenticate(req: IncomingMessage): void {
    const header = req.headers.authorization;
    let key: string | null = null;
    if (header?.startsWith('Bearer ')) key = header.slice(7).trim();
    else if (header?.startsWith('Basic '))
      key = Buffer.from(header.slice(6), 'base64').toString('utf8').split(':')[0] ?? '';
    if (!key) {
      throw new ApiError(401, {
        type: 'invalid_request_error',
        message:
          "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.",
      });
    }
    if (key !== apiKey) {
      throw new ApiError(401, { type: 'invalid_request_error', message: `Invalid API Key provided: ${maskKey(key)}` });
    }
  }

  function takeFault(path: string): Fault | null {
    for (const fault of faults) {
      if (fault.remaining > 0 && (!fault.match || fault.match(path))) {
        fault.remaining--;
        faults = faults.filter((f) => f.remaining > 0);
        return fault;
      }
    }
    return null;
  }

  function faultError(fault: Fault): ApiError {
    const headers: Record<string, string> = {};
    const shouldRetry = fault.options.shouldRetry ?? (fault.status === 429 ? true : undefined);
    if (shouldRetry !== undefined) headers['Stripe-Should-Retry'] = String(shouldRetry);
    if (fault.status === 429) {
      return new ApiError(
        429,
        {
          type: 'rate_limit_error',
          code: 'rate_limit',
          message:
            fault.options.message ??
            'Too many requests hit the API too quickly. We recommend an exponential backoff of your requests.',
        },
        headers,
      );
    }
    if (fault.status >= 500) {
      return new ApiError(
        fault.status,
        { type: 'api_error', message: fault.options.message ?? 'An unknown error occurred' },
        headers,
      );
    }
    return new ApiError(
      fault.status,
      { type: 'invalid_request_error', message: fault.options.message ?? `Injected failure (${fault.status})` },
      headers,
    );
  }

  function route(
    method: string,
    path: string,
    params: Params,
    request: StripeEvent['request'],
  ): { status: number; body: unknown } {
    const parts = path.split('/').filter(Boolean);
    const unrecognized = (): ApiError =>
      invalid(
        `Unrecognized request URL (${method}: ${path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
        undefined,
        undefined,
        404,
      );
    if (parts[0] !== 'v1' || parts.length < 2 || parts.length > 3) throw unrecognized();
    const type = TYPE_BY_PLURAL.get(parts[1] as string);
    if (!type) throw unrecognized();
    const id = parts[2] === undefined ? undefined : decodeURIComponent(parts[2]);

    if (method === 'GET' && id === undefined) {
      const { data, has_more } = listPage(type, params);
      return { status: 200, body: { object: 'list', data, has_more, url: `/v1/${parts[1]}` } };
    }
    if (method === 'GET' && id !== undefined) {
      if (type === 'event') {
        const event = eventsById.get(id);
        if (!event) throw noSuch('event', id, 'id', 404);
        return { status: 200, body: event };
      }
      const s = store(type);
      const object = s.byId.get(id);
      if (object) return { status: 200, body: object };
      const gone = s.deleted.get(id);
      if (gone && RETRIEVABLE_WHEN_DELETED.has(type))
        return { status: 200, body: { id, object: gone.object, deleted: true } };
      throw noSuch(type, id, 'id', 404);
    }
    if (type === 'event') throw unrecognized();
    if (method === 'POST' && id === undefined && CREATABLE.has(type))
      return { status: 200, body: httpCreate(type, params, request) };
    if (method === 'POST' && id !== undefined && UPDATABLE.has(type))
      return { status: 200, body: httpUpdate(type, id, params, request) };
    if (method === 'DELETE' && id !== undefined && DELETABLE.has(type)) {
      if (!store(type).byId.has(id)) throw noSuch(type, id, 'id', 404);
      return { status: 200, body: remove(type, id, request).object };
    }
    throw unrecognized();
  }

  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ error: { type: 'api_error', message: `stripe-server crashed: ${String(error)}` } }));
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    let body = '';
    if (method !== 'GET' && method !== 'HEAD') for await (const chunk of req) body += chunk;
    const header = (name: string): string | null => {
      const value = req.headers[name];
      return typeof value === 'string' ? value : null;
    };
    const record: StripeRequestRecord = {
      method,
      path: url.pathname,
      query: url.search,
      status: 0,
      requestId: newRequestId(),
      idempotencyKey: header('idempotency-key'),
      stripeVersion: header('stripe-version'),
      at: Date.now(),
    };
    requests.push(record);
    if (latencyMs > 0) await sleep(latencyMs);

    const send = (status: number, payload: string, extra: Record<string, string> = {}): void => {
      record.status = status;
      res.writeHead(status, {
        'Content-Type': 'application/json',
        'Content-Length': String(Buffer.byteLength(payload)),
        'Request-Id': record.requestId,
        'Stripe-Version': record.stripeVersion ?? STRIPE_API_VERSION,
        'Cache-Control': 'no-cache, no-store',
        ...extra,
      });
      res.end(payload);
    };

    try {
      const fault = takeFault(url.pathname);
      if (fault && fault.status === 0) {
        record.status = 0;
        req.socket.destroy();
        return;
      }
      if (fault) throw faultError(fault);
      authenticate(req);

      const key = method === 'POST' ? record.idempotencyKey : null;
      const replay = key ? idempotent.get(key) : undefined;
      if (replay) {
        send(replay.status, replay.payload, { 'Idempotent-Replayed': 'true', 'Idempotency-Key': key as string });
        return;
      }
      const params = parseStripeParams(method === 'GET' || method === 'DELETE' ? url.search : body);
      const result = route(method, url.pathname, params, { id: record.requestId, idempotency_key: key });
      const payload = JSON.stringify(result.body);
      if (key) idempotent.set(key, { status: result.status, payload });
      send(result.status, payload, key ? { 'Idempotency-Key': key } : {});
    } catch (error) {
      if (error instanceof ApiError) {
        send(
          error.status,
          JSON.stringify({
            error: { ...error.body, request_log_url: `https://dashboard.stripe.com/test/logs/${record.requestId}` },
          }),
          error.headers,
        );
        return;
      }
      throw error;
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = '127.0.0.1';

  return {
    url: `http://${host}:${port}`,
    host,
    port,
    apiKey,
    sdkOptions: () => ({ host, port, protocol: 'http' as const }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
    now,
    setNow: (seconds) => {
      frozenNow = seconds;
    },
    setLatency: (ms) => {
      latencyMs = ms;
    },
    create: (type, overrides, eventType) => create(type, overrides, eventType),
    update: (type, id, changes, eventType) => update(type, id, changes, eventType),
    remove: (type, id) => remove(type, id),
    seed,
    get: (type, id) => store(type).byId.get(id),
    list: (type) => {
      const sorted = store(type).sorted;
      sorted.settle();
      return [...sorted.items].reverse();
    },
    count: (type) => store(type).byId.size,
    events: () => [...eventLog],
    reset: () => {
      stores = new Map(ALL_TYPES.map((type) => [type, newTypeStore(type)]));
      eventStore = new SortedIndex();
      eventsById = new Map();
      eventLog = [];
      faults = [];
      idempotent = new Map();
      fallbackPrice = null;
      requests.length = 0;
    },
    failNext: (count, status = 429, match, failOptions = {}) => {
      faults.push({ remaining: count, status, match, options: failOptions });
    },
    requests,
    requestCount: (pathPrefix, method) =>
      requests.filter(
        (r) =>
          (pathPrefix === undefined || r.path.startsWith(pathPrefix)) && (method === undefined || r.method === method),
      ).length,
    resetRequests: () => {
      requests.length = 0;
    },
    signedWebhook,
  };
}

/**
 * `event` as Stripe POSTs it to a webhook endpoint: the JSON body and a `stripe-signature` header
 * made by the SDK's own `webhooks.generateTestHeaderString` (timestamp: seconds, default now).
 */
export function signedWebhook(event: unknown, secret: string, timestamp?: number): SignedWebhook {
  const body = typeof event === 'string' ? event : JSON.stringify(event, null, 2);
  const options: Parameters<typeof Stripe.webhooks.generateTestHeaderString>[0] = { payload: body, secret };
  if (timestamp !== undefined) options.timestamp = timestamp;
  const signature = Stripe.webhooks.generateTestHeaderString(options);
  return { body, headers: { 'stripe-signature': signature, 'content-type': 'application/json' } };
}
