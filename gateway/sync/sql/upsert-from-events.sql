-- upsert.sql for states whose object is in a stored webhook payload: a row with a `path` takes
-- its object from the payload of event `event_id` at that path, `data`'s fields laid over it.
-- $1 is a JSON array of {id, data, path, is_deleted, version_at (epoch seconds), event_id}.
INSERT INTO {schema}.{table} AS t (id, data, is_deleted, {version}, last_event_id, synced_at)
SELECT r.id,
       CASE WHEN r.path IS NULL THEN r.data WHEN r.data IS NULL THEN (e.payload #> r.path) ELSE (e.payload #> r.path) || r.data END,
       r.is_deleted, to_timestamp(r.version_at), r.event_id, now()
FROM jsonb_to_recordset($1::jsonb)
  AS r(id {id_type}, data jsonb, path text[], is_deleted boolean, version_at double precision, event_id text)
LEFT JOIN {schema}.events AS e ON r.path IS NOT NULL AND e.id = r.event_id
ON CONFLICT (id) DO UPDATE
SET data = excluded.data, is_deleted = excluded.is_deleted, {version} = excluded.{version},
    last_event_id = excluded.last_event_id, synced_at = excluded.synced_at
WHERE t.{version} <= excluded.{version}
