-- Notification requests written through Hasura (or any SQL client): the `notifications_send`
-- event trigger that `npm run metadata` puts on this table hands each inserted row to
-- POST /hasura/events, which sends it once (the event id is the idempotency key). Rows stay as
-- a record of what was asked; the notifications table holds what happened.
CREATE TABLE requests (
  id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id    text        NOT NULL,
  template   text        NOT NULL,
  data       jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(data) = 'object'),
  channels   text[]      CHECK (channels <@ ARRAY['EMAIL', 'PUSH', 'SMS', 'IN_APP']),
  category   text,
  created_at timestamptz NOT NULL DEFAULT now()
);
