-- A chunk of a collections bulk export into collections and collection_products (the products of
-- a collection come as lines of their own with the collection's `__parentId`; a membership is
-- keyed "<collection id>/<product id>" and is as of its collection's newest state in the chunk,
-- or of the listing). $1 JSONL text, $2 shop, $3 listing time (epoch seconds); as bulk-products.sql.
WITH line AS (
  SELECT l::jsonb AS o FROM string_to_table($1::text, E'\n') AS l WHERE l <> ''
), listed_collection AS (
  SELECT o, coalesce(shopify.to_timestamptz(o->>'updatedAt'), to_timestamp($3::double precision)) AS version_at
  FROM line WHERE o->>'id' LIKE 'gid://shopify/Collection/%'
), collection AS (
  INSERT INTO shopify.collections AS t (id, data, is_deleted, updated_at, last_event_id, synced_at)
  SELECT DISTINCT ON (id) shopify.gid_number(o->>'id') AS id, o || jsonb_build_object('shop', $2::text), false, version_at, NULL, now()
  FROM listed_collection
  ORDER BY id, version_at DESC
  ON CONFLICT (id) DO UPDATE
  SET data = excluded.data, is_deleted = excluded.is_deleted, updated_at = excluded.updated_at,
      last_event_id = excluded.last_event_id, synced_at = excluded.synced_at
  WHERE t.updated_at <= excluded.updated_at
  RETURNING 1
), membership AS (
  INSERT INTO shopify.collection_products AS t (id, data, is_deleted, updated_at, last_event_id, synced_at)
  SELECT DISTINCT ON (id)
    shopify.gid_number(l.o->>'__parentId') || '/' || shopify.gid_number(l.o->>'id') AS id,
    jsonb_build_object('shop', $2::text, 'collection', jsonb_build_object('id', l.o->>'__parentId'),
                       'product', jsonb_build_object('id', l.o->>'id')),
    false, coalesce(parent.version_at, to_timestamp($3::double precision)) AS version_at, NULL, now()
  FROM line AS l
  LEFT JOIN (SELECT o->>'id' AS gid, max(version_at) AS version_at FROM listed_collection GROUP BY 1) AS parent
    ON parent.gid = l.o->>'__parentId'
  WHERE l.o->>'id' LIKE 'gid://shopify/Product/%' AND l.o ? '__parentId'
  ORDER BY id, version_at DESC
  ON CONFLICT (id) DO UPDATE
  SET data = excluded.data, is_deleted = excluded.is_deleted, updated_at = excluded.updated_at,
      last_event_id = excluded.last_event_id, synced_at = excluded.synced_at
  WHERE t.updated_at <= excluded.updated_at
  RETURNING 1
)
SELECT (SELECT count(*) FROM collection) + (SELECT count(*) FROM membership) AS written
