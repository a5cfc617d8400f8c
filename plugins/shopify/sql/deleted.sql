-- Objects a */delete topic says are gone: marked deleted, the last stored object kept (a delete
-- body holds little more than the id); unless a newer state is stored. $1 is a JSON array of
-- {id, data, version_at (epoch seconds), event_id}.
INSERT INTO shopify.{table} AS t (id, data, is_deleted, updated_at, last_event_id, synced_at)
SELECT r.id, r.data, true, to_timestamp(r.version_at), r.event_id, now()
FROM jsonb_to_recordset($1::jsonb) AS r(id {id_type}, data jsonb, version_at double precision, event_id text)
ON CONFLICT (id) DO UPDATE
SET is_deleted = true, updated_at = excluded.updated_at, last_event_id = excluded.last_event_id, synced_at = now()
WHERE t.updated_at <= excluded.updated_at
