-- Shopify objects synced from webhooks and from the Admin GraphQL API (bulk operations).
--
-- The stored shape: `data` holds each source's object as that source sends it, plus `shop` (the
-- shop's myshopify.com domain, added by the plugin). Webhooks send the REST shape (numeric `id`,
-- `admin_graphql_api_id`, snake_case such as `updated_at`, `variants` inside products,
-- `line_items` and `fulfillments` inside orders); the GraphQL backfill sends the GraphQL shape
-- (`id` a GID such as gid://shopify/Product/123, camelCase such as `updatedAt`). Neither is
-- rewritten into the other: the typed columns are generated from both
-- (`coalesce(data->>'updated_at', data->>'updatedAt')`), so a row describes the same object
-- whichever source wrote it last.
--
-- Keys: `id` is the numeric id (the GID's number), unique across Shopify, so it stays the primary
-- key (the sync core upserts ON CONFLICT (id)); every table carries `shop` and is indexed on it.
-- Inventory levels are keyed "<inventory item id>/<location id>" and collection products
-- "<collection id>/<product id>" (neither has a number of its own), set by the plugin.
-- `updated_at` is Shopify's time of the state a row holds: an older state never overwrites a
-- newer one. Children (variants, line items, fulfillments) carry their parent's id. No foreign
-- keys: events arrive in any order.

-- ISO 8601 text with its offset, as Shopify writes times: immutable (generated columns need it).
CREATE FUNCTION to_timestamptz(value text) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN value::timestamptz;

-- The number of a numeric id or of a GID ("123", "gid://shopify/Product/123",
-- "gid://shopify/InventoryLevel/123?inventory_item_id=456" → 123).
CREATE FUNCTION gid_number(value text) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN substring(value from '([0-9]+)(\?.*)?$')::bigint;

-- The GID of an object of either shape.
CREATE FUNCTION gid_of(data jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN coalesce(data->>'admin_graphql_api_id', CASE WHEN data->>'id' LIKE 'gid://%' THEN data->>'id' END);

-- The keys of an object that hold a customer's personal data (customers/redact), in both shapes:
-- contact details, addresses and the names in them, the customer, the browser's address, notes.
CREATE FUNCTION personal_keys(kind text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE kind
  WHEN 'order' THEN ARRAY['email', 'contact_email', 'phone', 'customer', 'billing_address', 'shipping_address',
    'client_details', 'browser_ip', 'note', 'note_attributes', 'customer_locale', 'billingAddress',
    'shippingAddress', 'displayAddress', 'clientIp', 'customAttributes', 'customerLocale']
  WHEN 'fulfillment' THEN ARRAY['destination', 'email', 'destinationAddress']
  WHEN 'line_item' THEN ARRAY['destination_location', 'properties', 'customAttributes']
END;

-- Each object of a JSON array without `keys` (null when `list` is not an array).
CREATE FUNCTION without_keys_each(list jsonb, keys text[]) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN jsonb_typeof(list) = 'array'
  THEN (SELECT coalesce(jsonb_agg(item - keys ORDER BY n), '[]') FROM jsonb_array_elements(list) WITH ORDINALITY AS e(item, n))
END;

-- An order without the customer's personal data: its own personal keys, and those of the line
-- items and fulfillments it carries.
CREATE FUNCTION without_personal_data(data jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (data - shopify.personal_keys('order'))
  || CASE WHEN jsonb_typeof(data->'line_items') = 'array' THEN jsonb_build_object('line_items',
       shopify.without_keys_each(data->'line_items', shopify.personal_keys('line_item'))) ELSE '{}' END
  || CASE WHEN jsonb_typeof(data->'fulfillments') = 'array' THEN jsonb_build_object('fulfillments',
       shopify.without_keys_each(data->'fulfillments', shopify.personal_keys('fulfillment'))) ELSE '{}' END;

-- The shops the app is installed on (one row for SHOPIFY_SHOP, one per OAuth install).
-- `uninstalled_at` is set by app/uninstalled: the shop's syncs stop.
CREATE TABLE shops (
  domain         text PRIMARY KEY CHECK (domain ~ '^[a-z0-9][a-z0-9-]*\.myshopify\.com$'),
  name           text,
  installed_at   timestamptz NOT NULL DEFAULT now(),
  uninstalled_at timestamptz,
  scopes         text,
  data           jsonb
);

-- Offline sessions of the OAuth install flow, one per shop. `access_token` is a credential (it
-- acts as the app on the shop): never logged, never exposed through GraphQL or Hasura.
CREATE TABLE sessions (
  id           text PRIMARY KEY,
  shop         text NOT NULL,
  access_token text NOT NULL,
  scope        text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sessions_shop ON sessions (shop);

CREATE TABLE products (
  id            bigint PRIMARY KEY,
  shop          text GENERATED ALWAYS AS (data->>'shop') STORED NOT NULL,
  gid           text GENERATED ALWAYS AS (shopify.gid_of(data)) STORED,
  title         text GENERATED ALWAYS AS (data->>'title') STORED,
  handle        text GENERATED ALWAYS AS (data->>'handle') STORED,
  status        text GENERATED ALWAYS AS (lower(data->>'status')) STORED,
  vendor        text GENERATED ALWAYS AS (data->>'vendor') STORED,
  product_type  text GENERATED ALWAYS AS (coalesce(data->>'product_type', data->>'productType')) STORED,
  created_at    timestamptz GENERATED ALWAYS AS (shopify.to_timestamptz(coalesce(data->>'created_at', data->>'createdAt'))) STORED,
  data          jsonb NOT NULL,
  is_deleted    boolean NOT NULL DEFAULT false,
  updated_at    timestamptz NOT NULL,
  last_event_id text,
  synced_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX products_shop ON products (shop, updated_at DESC, id DESC);
CREATE INDEX products_handle ON products (shop, handle);

CREATE TABLE product_variants (
  id            bigint PRIMARY KEY,
  shop          text GENERATED ALWAYS AS (data->>'shop') STORED NOT NULL,
  gid           text GENERATED ALWAYS AS (shopify.gid_of(data)) STORED,
  product_id    bigint GENERATED ALWAYS AS (shopify.gid_number(coalesce(data->>'product_id', data#>>'{product,id}'))) STORED,
  sku           text GENERATED ALWAYS AS (data->>'sku') STORED,
  title         text GENERATED ALWAYS AS (data->>'title') STORED,
  price         numeric GENERATED ALWAYS AS ((data->>'price')::numeric) STORED,
  inventory_item_id bigint GENERATED ALWAYS AS (shopify.gid_number(coalesce(data->>'inventory_item_id', data#>>'{inventoryItem,id}'))) STORED,
  data          jsonb NOT NULL,
  is_deleted    boolean NOT NULL DEFAULT false,
  updated_at    timestamptz NOT NULL,
  last_event_id text,
  synced_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX product_variants_shop ON product_variants (shop);
CREATE INDEX product_variants_product ON product_variants (product_id);
CREATE INDEX product_variants_sku ON product_variants (shop, sku);

CREATE TABLE collections (
  id            bigint PRIMARY KEY,
  shop          text GENERATED ALWAYS AS (data->>'shop') STORED NOT NULL,
  gid           text GENERATED ALWAYS AS (shopify.gid_of(data)) STORED,
  title         text GENERATED ALWAYS AS (data->>'title') STORED,
  handle        text GENERATED ALWAYS AS (data->>'handle') STORED,
  data          jsonb NOT NULL,
  is_deleted    boolean NOT NULL DEFAULT false,
  updated_at    timestamptz NOT NULL,
  last_event_id text,
  synced_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX collections_shop ON collections (shop, handle);

CREATE TABLE collection_products (
  id            text PRIMARY KEY,
  shop          text GENERATED ALWAYS AS (data->>'shop') STORED NOT NULL,
  collection_id bigint GENERATED ALWAYS AS (shopify.gid_number(coalesce(data->>'collection_id', data#>>'{collection,id}'))) STORED,
  product_id    bigint GENERATED ALWAYS AS (shopify.gid_number(coalesce(data->>'product_id', data#>>'{product,id}'))) STORED,
  data          jsonb NOT NULL,
  is_deleted    boolean NOT NULL DEFAULT false,
  updated_at    timestamptz NOT NULL,
  last_event_id text,
  synced_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX collection_products_shop ON collection_products (shop);
CREATE INDEX collection_products_collection ON collection_products (collection_id);
CREATE INDEX collection_products_product ON collection_products (product_id);

CREATE TABLE customers (
  id            bigint PRIMARY KEY,
  shop          text GENERATED ALWAYS AS (data->>'shop') STORED NOT NULL,
  gid           text GENERATED ALWAYS AS (shopify.gid_of(data)) STORED,
  email         text GENERATED ALWAYS AS (coalesce(data->>'email', data#>>'{defaultEmailAddress,emailAddress}')) STORED,
  phone         text GENERATED ALWAYS AS (coalesce(data->>'phone', data#>>'{defaultPhoneNumber,phoneNumber}')) STORED,
  first_name    text GENERATED ALWAYS AS (coalesce(data->>'first_name', data->>'firstName')) STORED,
  last_name     text GENERATED ALWAYS AS (coalesce(data->>'last_name', data->>'lastName')) STORED,
  state         text GENERATED ALWAYS AS (lower(data->>'state')) STORED,
  created_at    timestamptz GENERATED ALWAYS AS (shopify.to_timestamptz(coalesce(data->>'created_at', data->>'createdAt'))) STORED,
  data          jsonb NOT NULL,
  is_deleted    boolean NOT NULL DEFAULT false,
  updated_at    timestamptz NOT NULL,
  last_event_id text,
  synced_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX customers_shop ON customers (shop, updated_at DESC, id DESC);
CREATE INDEX customers_email ON customers (shop, lower(email));

CREATE TABLE orders (
  id            bigint PRIMARY KEY,
  shop          text GENERATED ALWAYS AS (data->>'shop') STORED NOT NULL,
  gid           text GENERATED ALWAYS AS (shopify.gid_of(data)) STORED,
  name          text GENERATED ALWAYS AS (data->>'name') STORED,
  email         text GENERATED ALWAYS AS (data->>'email') STORED,
  customer_id   bigint GENERATED ALWAYS AS (shopify.gid_number(data#>>'{customer,id}')) STORED,
  financial_status text GENERATED ALWAYS AS (lower(coalesce(data->>'financial_status', data->>'displayFinancialStatus'))) STORED,
  fulfillment_status text GENERATED ALWAYS AS (lower(coalesce(data->>'fulfillment_status', data->>'displayFulfillmentStatus'))) STORED,
  total_price   numeric GENERATED ALWAYS AS ((coalesce(data->>'total_price', data#>>'{totalPriceSet,shopMoney,amount}'))::numeric) STORED,
  currency      text GENERATED ALWAYS AS (coalesce(data->>'currency', data->>'currencyCode')) STORED,
  created_at    timestamptz GENERATED ALWAYS AS (shopify.to_timestamptz(coalesce(data->>'created_at', data->>'createdAt'))) STORED,
  cancelled_at  timestamptz GENERATED ALWAYS AS (shopify.to_timestamptz(coalesce(data->>'cancelled_at', data->>'cancelledAt'))) STORED,
  data          jsonb NOT NULL,
  is_deleted    boolean NOT NULL DEFAULT false,
  updated_at    timestamptz NOT NULL,
  last_event_id text,
  synced_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_shop ON orders (shop, updated_at DESC, id DESC);
CREATE INDEX orders_customer ON orders (customer_id);
CREATE INDEX orders_name ON orders (shop, name);

CREATE TABLE order_line_items (
  id            bigint PRIMARY KEY,
  shop          text GENERATED ALWAYS AS (data->>'shop') STORED NOT NULL,
  gid           text GENERATED ALWAYS AS (shopify.gid_of(data)) STORED,
  order_id      bigint GENERATED ALWAYS AS (shopify.gid_number(coalesce(data->>'order_id', data->>'__parentId'))) STORED,
  product_id    bigint GENERATED ALWAYS AS (shopify.gid_number(coalesce(data->>'product_id', data#>>'{product,id}'))) STORED,
  variant_id    bigint GENERATED ALWAYS AS (shopify.gid_number(coalesce(data->>'variant_id', data#>>'{variant,id}'))) STORED,
  sku           text GENERATED ALWAYS AS (data->>'sku') STORED,
  title         text GENERATED ALWAYS AS (data->>'title') STORED,
  quantity      integer GENERATED ALWAYS AS ((data->>'quantity')::integer) STORED,
  data          jsonb NOT NULL,
  is_deleted    boolean NOT NULL DEFAULT false,
  updated_at    timestamptz NOT NULL,
  last_event_id text,
  synced_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX order_line_items_shop ON order_line_items (shop);
CREATE INDEX order_line_items_order ON order_line_items (order_id);
CREATE INDEX order_line_items_variant ON order_line_items (variant_id);

CREATE TABLE fulfillments (
  id            bigint PRIMARY KEY,
  shop          text GENERATED ALWAYS AS (data->>'shop') STORED NOT NULL,
  gid           text GENERATED ALWAYS AS (shopify.gid_of(data)) STORED,
  order_id      bigint GENERATED ALWAYS AS (shopify.gid_number(coalesce(data->>'order_id', data#>>'{order,id}', data->>'__parentId'))) STORED,
  status        text GENERATED ALWAYS AS (lower(data->>'status')) STORED,
  tracking_number text GENERATED ALWAYS AS (coalesce(data->>'tracking_number', data#>>'{trackingInfo,0,number}')) STORED,
  data          jsonb NOT NULL,
  is_deleted    boolean NOT NULL DEFAULT false,
  updated_at    timestamptz NOT NULL,
  last_event_id text,
  synced_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX fulfillments_shop ON fulfillments (shop);
CREATE INDEX fulfillments_order ON fulfillments (order_id);

CREATE TABLE inventory_items (
  id            bigint PRIMARY KEY,
  shop          text GENERATED ALWAYS AS (data->>'shop') STORED NOT NULL,
  gid           text GENERATED ALWAYS AS (shopify.gid_of(data)) STORED,
  sku           text GENERATED ALWAYS AS (data->>'sku') STORED,
  tracked       boolean GENERATED ALWAYS AS ((data->>'tracked')::boolean) STORED,
  data          jsonb NOT NULL,
  is_deleted    boolean NOT NULL DEFAULT false,
  updated_at    timestamptz NOT NULL,
  last_event_id text,
  synced_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX inventory_items_shop ON inventory_items (shop, sku);

CREATE TABLE inventory_levels (
  id            text PRIMARY KEY,
  shop          text GENERATED ALWAYS AS (data->>'shop') STORED NOT NULL,
  gid           text GENERATED ALWAYS AS (shopify.gid_of(data)) STORED,
  inventory_item_id bigint GENERATED ALWAYS AS (shopify.gid_number(coalesce(data->>'inventory_item_id', data#>>'{item,id}'))) STORED,
  location_id   bigint GENERATED ALWAYS AS (shopify.gid_number(coalesce(data->>'location_id', data#>>'{location,id}'))) STORED,
  available     integer GENERATED ALWAYS AS ((data->>'available')::integer) STORED,
  data          jsonb NOT NULL,
  is_deleted    boolean NOT NULL DEFAULT false,
  updated_at    timestamptz NOT NULL,
  last_event_id text,
  synced_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX inventory_levels_shop ON inventory_levels (shop);
CREATE INDEX inventory_levels_item ON inventory_levels (inventory_item_id);
CREATE INDEX inventory_levels_location ON inventory_levels (location_id);

CREATE TABLE locations (
  id            bigint PRIMARY KEY,
  shop          text GENERATED ALWAYS AS (data->>'shop') STORED NOT NULL,
  gid           text GENERATED ALWAYS AS (shopify.gid_of(data)) STORED,
  name          text GENERATED ALWAYS AS (data->>'name') STORED,
  active        boolean GENERATED ALWAYS AS ((coalesce(data->>'active', data->>'isActive'))::boolean) STORED,
  data          jsonb NOT NULL,
  is_deleted    boolean NOT NULL DEFAULT false,
  updated_at    timestamptz NOT NULL,
  last_event_id text,
  synced_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX locations_shop ON locations (shop);

-- The durable webhook log, keyed by X-Shopify-Webhook-Id; `type` is X-Shopify-Topic. `payload`
-- is an envelope: {shop, topic, api_version, triggered_at, body} with Shopify's body as sent.
CREATE TABLE events (
  id           text PRIMARY KEY,
  type         text NOT NULL,
  payload      jsonb NOT NULL,
  status       text NOT NULL DEFAULT 'received' CHECK (status IN ('received', 'processed', 'failed')),
  received_at  timestamptz NOT NULL DEFAULT now(),
  processed_at timestamptz,
  attempts     integer NOT NULL DEFAULT 0,
  last_error   text,
  shop         text GENERATED ALWAYS AS (payload->>'shop') STORED
);
CREATE INDEX events_received ON events (received_at DESC, id DESC);
CREATE INDEX events_unprocessed ON events (received_at, id) WHERE status = 'received';
CREATE INDEX events_failed ON events (received_at DESC) WHERE status = 'failed';
CREATE INDEX events_type ON events (type, received_at DESC);
CREATE INDEX events_shop ON events (shop);

-- The privacy webhooks, done: customers/data_request keeps the customer's stored data gathered
-- from every table (`result`, for the merchant to hand over); customers/redact and shop/redact
-- keep a record of what was erased (no personal data). Keyed by the webhook's id.
CREATE TABLE privacy_requests (
  event_id        text PRIMARY KEY,
  kind            text NOT NULL CHECK (kind IN ('customers/data_request', 'customers/redact', 'shop/redact')),
  shop            text NOT NULL,
  customer_id     bigint,
  data_request_id bigint,
  order_ids       bigint[] NOT NULL DEFAULT '{}',
  result          jsonb,
  completed_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX privacy_requests_shop ON privacy_requests (shop, customer_id);

-- The sync core's bookkeeping: one row per resource, one per run.
CREATE TABLE sync_state (
  resource          text PRIMARY KEY,
  status            text NOT NULL DEFAULT 'idle' CHECK (status IN ('idle', 'running', 'completed', 'failed')),
  cursor            text,
  run_id            uuid,
  run_since         timestamptz,
  last_sync_at      timestamptz,
  last_event_at     timestamptz,
  objects_synced    bigint NOT NULL DEFAULT 0,
  last_error        text,
  updated_at        timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE sync_runs (
  id          uuid PRIMARY KEY,
  kind        text NOT NULL CHECK (kind IN ('backfill', 'incremental')),
  resources   text[] NOT NULL,
  since       timestamptz,
  status      text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'completed', 'failed')),
  counts      jsonb NOT NULL DEFAULT '{}',
  error       text,
  started_at  timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz
);

-- The stored JSON compressed with lz4 instead of pglz (see github's 003_lz4.sql: pglz took about
-- 40 % of Postgres's time for a delivery). Servers built without lz4 keep pglz.
DO $$
DECLARE
  tables text[] := ARRAY['products', 'product_variants', 'collections', 'collection_products', 'customers',
    'orders', 'order_line_items', 'fulfillments', 'inventory_items', 'inventory_levels', 'locations'];
  name text;
BEGIN
  FOREACH name IN ARRAY tables LOOP
    EXECUTE format('ALTER TABLE %I ALTER COLUMN data SET COMPRESSION lz4', name);
  END LOOP;
  ALTER TABLE events ALTER COLUMN payload SET COMPRESSION lz4;
  ALTER TABLE privacy_requests ALTER COLUMN result SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
  RAISE NOTICE 'lz4 is not available on this server; compression stays pglz';
END
$$;
