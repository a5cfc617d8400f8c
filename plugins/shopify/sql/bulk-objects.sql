-- A chunk of a single-table bulk export (customers, locations) into {table}. $1 JSONL text, $2
-- shop, $3 listing time (epoch seconds) for objects without `updatedAt`, $4 the GID type of the
-- table's objects (`Customer`); as bulk-products.sql.
WITH line AS (
  SELECT l::jsonb AS o FROM string_to_table($1::text, E'\n') AS l WHERE l <> ''
), written AS (
  INSERT INTO shopify.{table} AS t (id, data, is_deleted, updated_at, last_event_id, synced_at)
  SELECT DISTINCT ON (id)
    shopify.gid_number(o->>'id') AS id, o || jsonb_build_object('shop', $2::text), false,
    coalesce(shopify.to_timestamptz(o->>'updatedAt'), to_timestamp($3::double precision)) AS version_at, NULL, now()
  FROM line
  WHERE o->>'id' LIKE 'gid://shopify/' || $4::text || '/%'
  ORDER BY id, version_at DESC
  ON CONFLICT (id) DO UPDATE
  SET data = excluded.data, is_deleted = excluded.is_deleted, updated_at = excluded.updated_at,
      last_event_id = excluded.last_event_id, synced_at = excluded.synced_at
  WHERE t.updated_at <= excluded.updated_at
  RETURNING 1
)
SELECT count(*) AS written FROM written
