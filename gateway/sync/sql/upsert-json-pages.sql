-- Pages of objects into one resource table straight from the provider's JSON text (a full
-- backfill's fast path). $1: a jsonb array of pages, each an array of objects; $2: the key of an
-- object's provider-side time; $3: a key marking objects that belong elsewhere (null: none);
-- $4: when the pages were listed (epoch seconds), the time of objects without one. The newest
-- state of each id is written, in id order (concurrent writers lock rows in one order), and a
-- row holding a newer state is kept.
INSERT INTO {schema}.{table} AS t (id, data, is_deleted, {version}, last_event_id, synced_at)
SELECT DISTINCT ON (id)
  (o->>'id')::{id_type} AS id, o, coalesce(o->'deleted' = 'true', false),
  coalesce((o->>$2::text)::timestamptz, to_timestamp($4::double precision)) AS version_at, NULL, now()
FROM jsonb_array_elements($1::jsonb) AS page(objects), jsonb_array_elements(page.objects) AS o
WHERE $3::text IS NULL OR NOT o ? $3::text
ORDER BY id, version_at DESC
ON CONFLICT (id) DO UPDATE
SET data = excluded.data, is_deleted = excluded.is_deleted, {version} = excluded.{version},
    last_event_id = excluded.last_event_id, synced_at = excluded.synced_at
WHERE t.{version} <= excluded.{version}
