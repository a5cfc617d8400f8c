-- Templates, the recipient directory, preferences, push subscriptions, and one row per
-- notification (recipient × channel) with its delivery status. Provider credentials stay in
-- configuration; `providers` holds only their order and whether they are used.

-- A template has variants per channel (channel 'ANY' serves channels without their own) and per
-- locale; an edit adds a version, and sends use the newest.
CREATE TABLE templates (
  id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  name       text        NOT NULL CHECK (name ~ '^[a-z0-9][a-z0-9_.-]{0,99}$'),
  channel    text        NOT NULL DEFAULT 'ANY' CHECK (channel IN ('ANY', 'EMAIL', 'PUSH', 'SMS', 'IN_APP')),
  locale     text        NOT NULL DEFAULT 'en' CHECK (locale ~ '^[a-z]{2}(-[A-Z]{2})?$'),
  version    integer     NOT NULL CHECK (version > 0),
  subject    text,
  body       text        NOT NULL,
  html       text,
  created_by text,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (name, channel, locale, version)
);

-- The default recipient directory (NOTIFICATIONS_RECIPIENTS_TABLE may name another table or view
-- with the same columns).
CREATE TABLE recipients (
  user_id    text        PRIMARY KEY,
  email      text,
  phone      text        CHECK (phone ~ '^\+[1-9][0-9]{6,14}$'),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Opt-in/out per user × channel × category ('*' is every category without its own row); a
-- category with digest on is gathered into one message per NOTIFICATIONS_BATCH_INTERVAL.
CREATE TABLE preferences (
  user_id    text        NOT NULL,
  channel    text        NOT NULL CHECK (channel IN ('EMAIL', 'PUSH', 'SMS', 'IN_APP')),
  category   text        NOT NULL DEFAULT '*',
  enabled    boolean     NOT NULL DEFAULT true,
  digest     boolean     NOT NULL DEFAULT false,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, channel, category)
);

-- A daily window (in the user's time zone) during which email, push and SMS wait; it may wrap
-- midnight (22:00–07:00).
CREATE TABLE quiet_hours (
  user_id    text        PRIMARY KEY,
  starts_at  time        NOT NULL,
  ends_at    time        NOT NULL,
  time_zone  text        NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE push_subscriptions (
  id           uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id      text        NOT NULL,
  endpoint     text        NOT NULL UNIQUE,
  p256dh       text        NOT NULL,
  auth         text        NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  last_sent_at timestamptz
);
CREATE INDEX push_subscriptions_user ON push_subscriptions (user_id);

-- Bulk sends and digests, for progress and stats.
CREATE TABLE batches (
  id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  kind       text        NOT NULL CHECK (kind IN ('bulk', 'digest')),
  template   text,
  category   text,
  total      integer     NOT NULL,
  created_by text,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- One row per recipient × channel. `queued` waits for a worker; `deferred` waits for the end of
-- quiet hours (send_after) or for the digest; `sent` was accepted by the provider (email, SMS,
-- push); `delivered` reached the recipient (in-app); `failed` is final, with the reason;
-- `skipped` was not sent on purpose (opted out, no address), with the reason.
CREATE TABLE notifications (
  id                  uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id             text,
  address             text,
  channel             text        NOT NULL CHECK (channel IN ('EMAIL', 'PUSH', 'SMS', 'IN_APP')),
  category            text        NOT NULL DEFAULT 'general',
  kind                text        NOT NULL DEFAULT 'single' CHECK (kind IN ('single', 'digest')),
  template            text,
  template_version    integer,
  data                jsonb,
  subject             text,
  body                text        NOT NULL,
  html                text,
  status              text        NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'deferred', 'sent', 'delivered', 'failed', 'skipped')),
  reason              text,
  provider            text,
  provider_message_id text,
  attempts            integer     NOT NULL DEFAULT 0,
  idempotency_key     text,
  batch_id            uuid        REFERENCES batches (id),
  digest_id           uuid        REFERENCES notifications (id),
  send_after          timestamptz,
  read_at             timestamptz,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  sent_at             timestamptz,
  failed_at           timestamptz,
  CHECK (user_id IS NOT NULL OR address IS NOT NULL)
);
CREATE UNIQUE INDEX notifications_idempotency ON notifications (idempotency_key, channel) WHERE idempotency_key IS NOT NULL;
CREATE INDEX notifications_batch ON notifications (batch_id) WHERE batch_id IS NOT NULL;
CREATE INDEX notifications_inbox ON notifications (user_id, created_at DESC, id DESC) WHERE channel = 'IN_APP';
CREATE INDEX notifications_digest_pending ON notifications (user_id, channel, category) WHERE status = 'deferred' AND send_after IS NULL;

-- Providers in failover order per channel (lowest priority first). Rows are added from the
-- configuration at start; an admin may reorder or disable them.
CREATE TABLE providers (
  name       text        PRIMARY KEY,
  channel    text        NOT NULL CHECK (channel IN ('EMAIL', 'PUSH', 'SMS')),
  priority   integer     NOT NULL,
  enabled    boolean     NOT NULL DEFAULT true,
  updated_at timestamptz NOT NULL DEFAULT now()
);
