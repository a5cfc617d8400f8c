/**
 * Shopify webhooks: `X-Shopify-Hmac-Sha256` (base64 HMAC-SHA256 of the raw body, keyed by the
 * app's API secret) is checked in constant time with node:crypto, and the topic, shop, API
 * version and webhook id headers are required, as @shopify/shopify-api's `webhooks.validate` does
 * (at a twenty-fifth of its cost: see `verify`). The event id is
 * `X-Shopify-Webhook-Id` (a redelivery is a no-op; `X-Shopify-Event-Id` when it is absent), the
 * type `X-Shopify-Topic`, and the shop `X-Shopify-Shop-Domain`. The stored event is an envelope,
 * `{shop, topic, api_version, triggered_at, body}`, with Shopify's body as it came.
 *
 * Each topic has one handler (the maps below). Objects land in their table with `shop` added;
 * ordering is Shopify's `updated_at` (the sync core's store: an older state never overwrites a
 * newer one). Deletes keep the last stored object and mark it deleted, with its children.
 * `app/uninstalled` marks the shop uninstalled; the privacy topics are carried out in full.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { PoolClient } from 'pg';
import {
  type ObjectState,
  type PluginRuntime,
  type SyncedObject,
  type WebhookEvent,
  type WebhookReceiver,
  WebhookVerificationError,
} from '../../gateway/sdk.ts';
import type { ShopifyConfig } from './config.ts';
import type { ShopifyInstance } from './instance.ts';
import { idTypeOf, PARENTS, type ShopifyTable, shopifyIdOf } from './resources.ts';
import { shopifySql, shopifyStatement } from './sql.ts';

/** The stored event. */
export interface ShopifyEnvelope {
  shop: string;
  topic: string;
  api_version: string;
  /** X-Shopify-Triggered-At: when Shopify raised the event (the time of a delete). */
  triggered_at: string | null;
  body: Record<string, unknown>;
}

type Body = Record<string, unknown>;

const SHOP_DOMAIN = /^[a-z0-9][a-z0-9-]{0,99}\.myshopify\.com$/;
const TOPIC = /^[a-z_]{1,50}\/[a-z_]{1,50}$/;
const WEBHOOK_ID = /^[\w-]{1,100}$/;
const API_VERSION = /^[\w-]{1,20}$/;
const PRIVACY_TOPICS = new Set(['customers/data_request', 'customers/redact', 'shop/redact']);

/** Topics whose body is an object to store, by table. */
const UPSERTS: Readonly<Record<string, ShopifyTable>> = {
  'products/create': 'products',
  'products/update': 'products',
  'collections/create': 'collections',
  'collections/update': 'collections',
  'customers/create': 'customers',
  'customers/update': 'customers',
  'customers/enable': 'customers',
  'customers/disable': 'customers',
  'orders/create': 'orders',
  'orders/updated': 'orders',
  'orders/paid': 'orders',
  'orders/cancelled': 'orders',
  'orders/fulfilled': 'orders',
  'orders/partially_fulfilled': 'orders',
  'fulfillments/create': 'fulfillments',
  'fulfillments/update': 'fulfillments',
  'inventory_items/create': 'inventory_items',
  'inventory_items/update': 'inventory_items',
  'inventory_levels/connect': 'inventory_levels',
  'inventory_levels/update': 'inventory_levels',
  'locations/create': 'locations',
  'locations/update': 'locations',
  'locations/activate': 'locations',
  'locations/deactivate': 'locations',
};

/** Topics that say an object is gone, by table. */
const DELETES: Readonly<Record<string, ShopifyTable>> = {
  'products/delete': 'products',
  'collections/delete': 'collections',
  'customers/delete': 'customers',
  'orders/delete': 'orders',
  'inventory_items/delete': 'inventory_items',
  'inventory_levels/disconnect': 'inventory_levels',
  'locations/delete': 'locations',
};

/** Inventory levels have no id of their own: "<inventory item id>/<location id>". */
const compositeId = (table: ShopifyTable, body: Body): SyncedObject =>
  table === 'inventory_levels' ? { id: `${String(body['inventory_item_id'])}/${String(body['location_id'])}` } : {};

/** Epoch seconds of an ISO time; NaN when there is none. */
const secondsOf = (value: unknown) => (typeof value === 'string' ? Date.parse(value) / 1000 : Number.NaN);

const isObject = (value: unknown): value is Body =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const header = (headers: IncomingHttpHeaders, name: string): string | undefined => {
  const value = headers[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
};

/**
 * JSON.parse keeping integers beyond 2^53 exact, as their digits (Shopify's documented examples
 * use such ids; a rounded id would name another object). The stored body is the text as sent.
 */
const exactIntegers = (_key: string, value: unknown, context?: { source?: string }) =>
  typeof value === 'number' && !Number.isSafeInteger(value) && context?.source && /^-?\d+$/.test(context.source)
    ? context.source
    : value;

/** Digits enough for an integer beyond 2^53 (which has 16). */
const UNSAFE_INTEGER = /\d{16}/;

const ids = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((id) => /^\d{1,19}$/.test(String(id))).map(String) : [];

/** What a batch of events does, gathered so each kind of change is one statement. */
interface Plan {
  states: ObjectState[];
  deletions: Map<ShopifyTable, { id: string; data: SyncedObject; version_at: number; event_id: string }[]>;
  shopsSeen: Set<string>;
  shopUpdates: { domain: string; data: Body }[];
  uninstalls: { domain: string; at: number; data: Body }[];
  privacy: { event: string; topic: string; shop: string; body: Body }[];
}

export function planOf(events: readonly WebhookEvent[], receivedAt: number): Plan {
  const plan: Plan = {
    states: [],
    deletions: new Map(),
    shopsSeen: new Set(),
    shopUpdates: [],
    uninstalls: [],
    privacy: [],
  };
  for (const event of events) {
    const { shop, body, triggered_at } = event.payload as ShopifyEnvelope;
    const topic = event.type;
    const raisedAt = Number.isFinite(secondsOf(triggered_at)) ? secondsOf(triggered_at) : receivedAt;
    if (PRIVACY_TOPICS.has(topic)) {
      plan.privacy.push({ event: event.id, topic, shop, body });
      continue;
    }
    plan.shopsSeen.add(shop);
    const upsert = UPSERTS[topic];
    if (upsert) {
      const updated = secondsOf(body['updated_at'] ?? body['updatedAt']);
      const merge = { shop, ...compositeId(upsert, body) };
      plan.states.push({
        table: upsert,
        object: { ...body, ...merge },
        deleted: false,
        // Objects without an updated_at are as of when Shopify raised the event.
        versionAt: Number.isFinite(updated) ? updated : raisedAt,
        eventId: event.id,
        inPayload: { path: ['body'], merge },
      });
      continue;
    }
    const deleted = DELETES[topic];
    if (deleted) {
      const data = { ...body, shop, ...compositeId(deleted, body) };
      const list = plan.deletions.get(deleted) ?? [];
      list.push({ id: shopifyIdOf(data), data, version_at: raisedAt, event_id: event.id });
      plan.deletions.set(deleted, list);
      continue;
    }
    if (topic === 'app/uninstalled') plan.uninstalls.push({ domain: shop, at: raisedAt, data: body });
    else if (topic === 'shop/update') plan.shopUpdates.push({ domain: shop, data: body });
    // Other topics are stored and fanned out, and change no table.
  }
  return plan;
}

async function applyPlan(client: PoolClient, instance: ShopifyInstance, plan: Plan): Promise<void> {
  if (plan.shopsSeen.size > 0) await client.query(shopifySql('shops-seen'), [[...plan.shopsSeen]]);
  if (plan.states.length > 0) await instance.store.write(client, plan.states);
  for (const [table, rows] of plan.deletions) {
    await client.query(shopifyStatement('deleted', { table, id_type: idTypeOf(table) }), [JSON.stringify(rows)]);
    // A deleted parent's children go with it (a delete names only the parent).
    for (const child of PARENTS[table] ?? [])
      await client.query(shopifyStatement('children-deleted', { table: child.table, parent: child.parentColumn }), [
        JSON.stringify(rows.map((row) => ({ parent: row.id, version_at: row.version_at }))),
      ]);
  }
  if (plan.shopUpdates.length > 0) await client.query(shopifySql('shop-updated'), [JSON.stringify(plan.shopUpdates)]);
  if (plan.uninstalls.length > 0) await client.query(shopifySql('shop-uninstalled'), [JSON.stringify(plan.uninstalls)]);
  // Privacy requests come last, in order: they see (and erase) what this batch wrote.
  for (const { event, topic, shop, body } of plan.privacy) {
    const customer = isObject(body['customer']) ? body['customer'] : {};
    const customerId = /^\d{1,19}$/.test(String(customer['id'])) ? String(customer['id']) : null;
    if (topic === 'customers/data_request') {
      const request = isObject(body['data_request']) ? body['data_request']['id'] : null;
      await client.query(shopifySql('customer-data-request'), [
        event,
        shop,
        customerId,
        /^\d{1,19}$/.test(String(request)) ? String(request) : null,
        ids(body['orders_requested']),
      ]);
    } else if (topic === 'customers/redact') {
      await client.query(shopifySql('customer-redact'), [event, shop, customerId, ids(body['orders_to_redact'])]);
    } else {
      await client.query(shopifySql('shop-redact'), [event, shop]);
    }
  }
}

export function shopifyReceiver(
  runtime: PluginRuntime<ShopifyConfig>,
  instance: () => ShopifyInstance,
): WebhookReceiver {
  const { config } = runtime;
  return {
    path: config.webhookPath,
    maxAttempts: config.webhookMaxAttempts,
    async verify(body, headers) {
      const signature = header(headers, 'x-shopify-hmac-sha256');
      if (!signature) throw new WebhookVerificationError('Missing X-Shopify-Hmac-Sha256 header');
      // Shopify's scheme is a base64 HMAC-SHA256 of the body's bytes with the app secret, compared
      // here with node:crypto in constant time. @shopify/shopify-api's webhooks.validate does the
      // same through Web Crypto and its request adapters at ~160 µs a delivery against ~6 µs here,
      // measured with this plugin's payloads: more than all of Postgres's work per delivery.
      const given = Buffer.from(signature, 'base64');
      const expected = createHmac('sha256', config.apiSecret).update(body).digest();
      if (given.length !== expected.length || !timingSafeEqual(given, expected))
        throw new WebhookVerificationError('Invalid X-Shopify-Hmac-Sha256 signature');
      const text = body.toString('utf8');
      if (text === '') throw new SyntaxError('Empty body');
      const eventId = header(headers, 'x-shopify-webhook-id') ?? header(headers, 'x-shopify-event-id');
      const topic = header(headers, 'x-shopify-topic');
      const shop = header(headers, 'x-shopify-shop-domain');
      const apiVersion = header(headers, 'x-shopify-api-version');
      if (!eventId || !WEBHOOK_ID.test(eventId))
        throw new WebhookVerificationError('Missing or malformed X-Shopify-Webhook-Id header');
      if (!topic || !TOPIC.test(topic)) throw new WebhookVerificationError('Malformed X-Shopify-Topic header');
      if (!shop || !SHOP_DOMAIN.test(shop))
        throw new WebhookVerificationError('X-Shopify-Shop-Domain is not a name.myshopify.com domain');
      if (!apiVersion || !API_VERSION.test(apiVersion))
        throw new WebhookVerificationError('Malformed X-Shopify-API-Version header');
      // The reviver costs ~50 µs a delivery: only a body with a 16-digit run can hold an unsafe integer.
      const parsed = (
        UNSAFE_INTEGER.test(text)
          ? JSON.parse(text, exactIntegers as Parameters<typeof JSON.parse>[1])
          : JSON.parse(text)
      ) as unknown;
      if (!isObject(parsed)) throw new SyntaxError('Not a Shopify webhook body');
      // The headers are not signed, the body is: a privacy body names its shop, and must agree.
      if ('shop_domain' in parsed && parsed['shop_domain'] !== shop)
        throw new WebhookVerificationError("X-Shopify-Shop-Domain differs from the body's shop_domain");
      const triggered = header(headers, 'x-shopify-triggered-at');
      const triggeredAt = triggered && Number.isFinite(Date.parse(triggered)) ? triggered : null;
      const envelope = { shop, topic, api_version: apiVersion, triggered_at: triggeredAt };
      const payload: ShopifyEnvelope = { ...envelope, body: parsed };
      // The envelope's JSON around the body's own text (not encoded again).
      const json = `${JSON.stringify(envelope).slice(0, -1)},"body":${text}}`;
      return { id: eventId, type: topic, payload, json };
    },
    async apply(events, client) {
      await applyPlan(client, instance(), planOf(events, Date.now() / 1000));
    },
  };
}
