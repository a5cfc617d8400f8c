-- Stripe objects synced from webhooks and the API. Each table keeps the whole object in `data`;
-- the typed columns people filter and join on are generated from it, so every write path
-- (webhook, sync, check --fix) is the same upsert. No foreign keys: events arrive in any order.
-- `stripe_at` is the Stripe-side time of the state a row holds (the event's `created`, or when
-- the API returned the object); an older state never overwrites a newer one.

CREATE FUNCTION epoch_to_timestamptz(value text) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN to_timestamp(value::double precision);

CREATE TABLE customers (
  id            text PRIMARY KEY,
  email         text GENERATED ALWAYS AS (data->>'email') STORED,
  name          text GENERATED ALWAYS AS (data->>'name') STORED,
  description   text GENERATED ALWAYS AS (data->>'description') STORED,
  currency      text GENERATED ALWAYS AS (data->>'currency') STORED,
  balance       bigint GENERATED ALWAYS AS ((data->>'balance')::bigint) STORED,
  delinquent    boolean GENERATED ALWAYS AS ((data->>'delinquent')::boolean) STORED,
  created       timestamptz GENERATED ALWAYS AS (epoch_to_timestamptz(data->>'created')) STORED,
  data          jsonb NOT NULL,
  is_deleted    boolean NOT NULL DEFAULT false,
  stripe_at     timestamptz NOT NULL,
  last_event_id text,
  synced_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX customers_email ON customers (lower(email));
CREATE INDEX customers_created ON customers (created DESC, id DESC);

CREATE TABLE subscriptions (
  id                   text PRIMARY KEY,
  customer             text GENERATED ALWAYS AS (data->>'customer') STORED,
  status               text GENERATED ALWAYS AS (data->>'status') STORED,
  currency             text GENERATED ALWAYS AS (data->>'currency') STORED,
  cancel_at_period_end boolean GENERATED ALWAYS AS ((data->>'cancel_at_period_end')::boolean) STORED,
  current_period_start timestamptz GENERATED ALWAYS AS (epoch_to_timestamptz(coalesce(data->>'current_period_start', data#>>'{items,data,0,current_period_start}'))) STORED,
  current_period_end   timestamptz GENERATED ALWAYS AS (epoch_to_timestamptz(coalesce(data->>'current_period_end', data#>>'{items,data,0,current_period_end}'))) STORED,
  canceled_at          timestamptz GENERATED ALWAYS AS (epoch_to_timestamptz(data->>'canceled_at')) STORED,
  created              timestamptz GENERATED ALWAYS AS (epoch_to_timestamptz(data->>'created')) STORED,
  data                 jsonb NOT NULL,
  is_deleted           boolean NOT NULL DEFAULT false,
  stripe_at            timestamptz NOT NULL,
  last_event_id        text,
  synced_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX subscriptions_customer ON subscriptions (customer, created DESC);
CREATE INDEX subscriptions_status ON subscriptions (status, created DESC);
CREATE INDEX subscriptions_created ON subscriptions (created DESC, id DESC);

CREATE TABLE subscription_items (
  id            text PRIMARY KEY,
  subscription  text GENERATED ALWAYS AS (data->>'subscription') STORED,
  price         text GENERATED ALWAYS AS (coalesce(data#>>'{price,id}', data->>'price')) STORED,
  product       text GENERATED ALWAYS AS (data#>>'{price,product}') STORED,
  quantity      bigint GENERATED ALWAYS AS ((data->>'quantity')::bigint) STORED,
  created       timestamptz GENERATED ALWAYS AS (epoch_to_timestamptz(data->>'created')) STORED,
  data          jsonb NOT NULL,
  is_deleted    boolean NOT NULL DEFAULT false,
  stripe_at     timestamptz NOT NULL,
  last_event_id text,
  synced_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX subscription_items_subscription ON subscription_items (subscription);
CREATE INDEX subscription_items_price ON subscription_items (price);
CREATE INDEX subscription_items_created ON subscription_items (created DESC, id DESC);

CREATE TABLE invoices (
  id            text PRIMARY KEY,
  customer      text GENERATED ALWAYS AS (data->>'customer') STORED,
  subscription  text GENERATED ALWAYS AS (coalesce(data->>'subscription', data#>>'{parent,subscription_details,subscription}')) STORED,
  status        text GENERATED ALWAYS AS (data->>'status') STORED,
  number        text GENERATED ALWAYS AS (data->>'number') STORED,
  currency      text GENERATED ALWAYS AS (data->>'currency') STORED,
  total         bigint GENERATED ALWAYS AS ((data->>'total')::bigint) STORED,
  amount_due    bigint GENERATED ALWAYS AS ((data->>'amount_due')::bigint) STORED,
  amount_paid   bigint GENERATED ALWAYS AS ((data->>'amount_paid')::bigint) STORED,
  due_date      timestamptz GENERATED ALWAYS AS (epoch_to_timestamptz(data->>'due_date')) STORED,
  created       timestamptz GENERATED ALWAYS AS (epoch_to_timestamptz(data->>'created')) STORED,
  data          jsonb NOT NULL,
  is_deleted    boolean NOT NULL DEFAULT false,
  stripe_at     timestamptz NOT NULL,
  last_event_id text,
  synced_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX invoices_customer ON invoices (customer, created DESC);
CREATE INDEX invoices_subscription ON invoices (subscription);
CREATE INDEX invoices_status ON invoices (status, created DESC);
CREATE INDEX invoices_created ON invoices (created DESC, id DESC);

CREATE TABLE payment_intents (
  id            text PRIMARY KEY,
  customer      text GENERATED ALWAYS AS (data->>'customer') STORED,
  invoice       text GENERATED ALWAYS AS (data->>'invoice') STORED,
  latest_charge text GENERATED ALWAYS AS (data->>'latest_charge') STORED,
  status        text GENERATED ALWAYS AS (data->>'status') STORED,
  amount        bigint GENERATED ALWAYS AS ((data->>'amount')::bigint) STORED,
  currency      text GENERATED ALWAYS AS (data->>'currency') STORED,
  created       timestamptz GENERATED ALWAYS AS (epoch_to_timestamptz(data->>'created')) STORED,
  data          jsonb NOT NULL,
  is_deleted    boolean NOT NULL DEFAULT false,
  stripe_at     timestamptz NOT NULL,
  last_event_id text,
  synced_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payment_intents_customer ON payment_intents (customer, created DESC);
CREATE INDEX payment_intents_created ON payment_intents (created DESC, id DESC);

CREATE TABLE charges (
  id              text PRIMARY KEY,
  customer        text GENERATED ALWAYS AS (data->>'customer') STORED,
  invoice         text GENERATED ALWAYS AS (data->>'invoice') STORED,
  payment_intent  text GENERATED ALWAYS AS (data->>'payment_intent') STORED,
  status          text GENERATED ALWAYS AS (data->>'status') STORED,
  amount          bigint GENERATED ALWAYS AS ((data->>'amount')::bigint) STORED,
  amount_refunded bigint GENERATED ALWAYS AS ((data->>'amount_refunded')::bigint) STORED,
  currency        text GENERATED ALWAYS AS (data->>'currency') STORED,
  paid            boolean GENERATED ALWAYS AS ((data->>'paid')::boolean) STORED,
  refunded        boolean GENERATED ALWAYS AS ((data->>'refunded')::boolean) STORED,
  created         timestamptz GENERATED ALWAYS AS (epoch_to_timestamptz(data->>'created')) STORED,
  data            jsonb NOT NULL,
  is_deleted      boolean NOT NULL DEFAULT false,
  stripe_at       timestamptz NOT NULL,
  last_event_id   text,
  synced_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX charges_customer ON charges (customer, created DESC);
CREATE INDEX charges_invoice ON charges (invoice);
CREATE INDEX charges_payment_intent ON charges (payment_intent);
CREATE INDEX charges_created ON charges (created DESC, id DESC);

CREATE TABLE refunds (
  id             text PRIMARY KEY,
  charge         text GENERATED ALWAYS AS (data->>'charge') STORED,
  payment_intent text GENERATED ALWAYS AS (data->>'payment_intent') STORED,
  status         text GENERATED ALWAYS AS (data->>'status') STORED,
  reason         text GENERATED ALWAYS AS (data->>'reason') STORED,
  amount         bigint GENERATED ALWAYS AS ((data->>'amount')::bigint) STORED,
  currency       text GENERATED ALWAYS AS (data->>'currency') STORED,
  created        timestamptz GENERATED ALWAYS AS (epoch_to_timestamptz(data->>'created')) STORED,
  data           jsonb NOT NULL,
  is_deleted     boolean NOT NULL DEFAULT false,
  stripe_at      timestamptz NOT NULL,
  last_event_id  text,
  synced_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refunds_charge ON refunds (charge);
CREATE INDEX refunds_created ON refunds (created DESC, id DESC);

CREATE TABLE disputes (
  id             text PRIMARY KEY,
  charge         text GENERATED ALWAYS AS (data->>'charge') STORED,
  payment_intent text GENERATED ALWAYS AS (data->>'payment_intent') STORED,
  status         text GENERATED ALWAYS AS (data->>'status') STORED,
  reason         text GENERATED ALWAYS AS (data->>'reason') STORED,
  amount         bigint GENERATED ALWAYS AS ((data->>'amount')::bigint) STORED,
  currency       text GENERATED ALWAYS AS (data->>'currency') STORED,
  created        timestamptz GENERATED ALWAYS AS (epoch_to_timestamptz(data->>'created')) STORED,
  data           jsonb NOT NULL,
  is_deleted     boolean NOT NULL DEFAULT false,
  stripe_at      timestamptz NOT NULL,
  last_event_id  text,
  synced_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX disputes_charge ON disputes (charge);
CREATE INDEX disputes_status ON disputes (status, created DESC);
CREATE INDEX disputes_created ON disputes (created DESC, id DESC);

CREATE TABLE payouts (
  id            text PRIMARY KEY,
  status        text GENERATED ALWAYS AS (data->>'status') STORED,
  amount        bigint GENERATED ALWAYS AS ((data->>'amount')::bigint) STORED,
  currency      text GENERATED ALWAYS AS (data->>'currency') STORED,
  method        text GENERATED ALWAYS AS (data->>'method') STORED,
  arrival_date  timestamptz GENERATED ALWAYS AS (epoch_to_timestamptz(data->>'arrival_date')) STORED,
  created       timestamptz GENERATED ALWAYS AS (epoch_to_timestamptz(data->>'created')) STORED,
  data          jsonb NOT NULL,
  is_deleted    boolean NOT NULL DEFAULT false,
  stripe_at     timestamptz NOT NULL,
  last_event_id text,
  synced_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payouts_status ON payouts (status, created DESC);
CREATE INDEX payouts_created ON payouts (created DESC, id DESC);

CREATE TABLE products (
  id            text PRIMARY KEY,
  name          text GENERATED ALWAYS AS (data->>'name') STORED,
  description   text GENERATED ALWAYS AS (data->>'description') STORED,
  active        boolean GENERATED ALWAYS AS ((data->>'active')::boolean) STORED,
  default_price text GENERATED ALWAYS AS (coalesce(data#>>'{default_price,id}', data->>'default_price')) STORED,
  created       timestamptz GENERATED ALWAYS AS (epoch_to_timestamptz(data->>'created')) STORED,
  data          jsonb NOT NULL,
  is_deleted    boolean NOT NULL DEFAULT false,
  stripe_at     timestamptz NOT NULL,
  last_event_id text,
  synced_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX products_created ON products (created DESC, id DESC);

CREATE TABLE prices (
  id                       text PRIMARY KEY,
  product                  text GENERATED ALWAYS AS (coalesce(data#>>'{product,id}', data->>'product')) STORED,
  active                   boolean GENERATED ALWAYS AS ((data->>'active')::boolean) STORED,
  currency                 text GENERATED ALWAYS AS (data->>'currency') STORED,
  unit_amount              bigint GENERATED ALWAYS AS ((data->>'unit_amount')::bigint) STORED,
  type                     text GENERATED ALWAYS AS (data->>'type') STORED,
  recurring_interval       text GENERATED ALWAYS AS (data#>>'{recurring,interval}') STORED,
  recurring_interval_count integer GENERATED ALWAYS AS ((data#>>'{recurring,interval_count}')::integer) STORED,
  nickname                 text GENERATED ALWAYS AS (data->>'nickname') STORED,
  lookup_key               text GENERATED ALWAYS AS (data->>'lookup_key') STORED,
  created                  timestamptz GENERATED ALWAYS AS (epoch_to_timestamptz(data->>'created')) STORED,
  data                     jsonb NOT NULL,
  is_deleted               boolean NOT NULL DEFAULT false,
  stripe_at                timestamptz NOT NULL,
  last_event_id            text,
  synced_at                timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX prices_product ON prices (product);
CREATE INDEX prices_created ON prices (created DESC, id DESC);

-- Stripe events: the gateway's durable webhook log (id, type, payload, received_at,
-- processed_at, attempts, last_error, status) and the synced `events` resource in one table.
CREATE TABLE events (
  id           text PRIMARY KEY,
  type         text NOT NULL,
  payload      jsonb NOT NULL,
  status       text NOT NULL DEFAULT 'received' CHECK (status IN ('received', 'processed', 'failed')),
  received_at  timestamptz NOT NULL DEFAULT now(),
  processed_at timestamptz,
  attempts     integer NOT NULL DEFAULT 0,
  last_error   text,
  created      timestamptz GENERATED ALWAYS AS (epoch_to_timestamptz(payload->>'created')) STORED,
  object_id    text GENERATED ALWAYS AS (payload#>>'{data,object,id}') STORED,
  api_version  text GENERATED ALWAYS AS (payload->>'api_version') STORED,
  livemode     boolean GENERATED ALWAYS AS ((payload->>'livemode')::boolean) STORED
);
CREATE INDEX events_received ON events (received_at DESC, id DESC);
CREATE INDEX events_unprocessed ON events (received_at, id) WHERE status = 'received';
CREATE INDEX events_failed ON events (received_at DESC) WHERE status = 'failed';
CREATE INDEX events_type ON events (type, created DESC);
CREATE INDEX events_object ON events (object_id, created DESC);

-- One row per resource: where the last sync got to and how it went.
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
