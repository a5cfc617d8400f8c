-- upsert-from-events.sql inside the statement that logs the events (webhook-insert-applied.sql):
-- a row is written only if its event was newly logged (`fresh`), and a row with a `path` takes
-- its object from that event's payload as it is being inserted (`input`, not yet compressed).
-- (`||` only when there are fields to lay over: it rebuilds the whole object.)
-- {rows} is a JSON array of {id, data, path, is_deleted, version_at (epoch seconds), event_id},
-- in id order.
INSERT INTO {schema}.{table} AS t (id, data, is_deleted, {version}, last_event_id, synced_at)
SELECT r.id,
       CASE WHEN r.path IS NULL THEN r.data WHEN r.data IS NULL THEN (i.payload #> r.path) ELSE (i.payload #> r.path) || r.data END,
       r.is_deleted, to_timestamp(r.version_at), r.event_id, now()
FROM jsonb_to_recordset({rows}::jsonb)
  AS r(id {id_type}, data jsonb, path text[], is_deleted boolean, version_at double precision, event_id text)
JOIN fresh AS f ON f.id = r.event_id
JOIN input AS i ON i.id = r.event_id
ORDER BY r.id
ON CONFLICT (id) DO UPDATE
SET data = excluded.data, is_deleted = excluded.is_deleted, {version} = excluded.{version},
    last_event_id = excluded.last_event_id, synced_at = excluded.synced_at
WHERE t.{version} <= excluded.{version}
