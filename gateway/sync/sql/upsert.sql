-- Newer states of objects into one resource table; a row holding a newer state is kept.
-- $1 is a JSON array of {id, data, is_deleted, version_at (epoch seconds), event_id}.
INSERT INTO {schema}.{table} AS t (id, data, is_deleted, {version}, last_event_id, synced_at)
SELECT r.id, r.data, r.is_deleted, to_timestamp(r.version_at), r.event_id, now()
FROM jsonb_to_recordset($1::jsonb) AS r(id {id_type}, data jsonb, is_deleted boolean, version_at double precision, event_id text)
ON CONFLICT (id) DO UPDATE
SET data = excluded.data, is_deleted = excluded.is_deleted, {version} = excluded.{version},
    last_event_id = excluded.last_event_id, synced_at = excluded.synced_at
WHERE t.{version} <= excluded.{version}
