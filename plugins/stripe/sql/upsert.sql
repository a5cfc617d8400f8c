-- Newer states of objects into one resource table; a row holding a newer state is kept.
-- $1 is a JSON array of {id, data, is_deleted, stripe_at (epoch seconds), event_id}.
INSERT INTO stripe."{table}" AS t (id, data, is_deleted, stripe_at, last_event_id, synced_at)
SELECT r.id, r.data, r.is_deleted, to_timestamp(r.stripe_at), r.event_id, now()
FROM jsonb_to_recordset($1::jsonb) AS r(id text, data jsonb, is_deleted boolean, stripe_at double precision, event_id text)
ON CONFLICT (id) DO UPDATE
SET data = excluded.data, is_deleted = excluded.is_deleted, stripe_at = excluded.stripe_at,
    last_event_id = excluded.last_event_id, synced_at = excluded.synced_at
WHERE t.stripe_at <= excluded.stripe_at
