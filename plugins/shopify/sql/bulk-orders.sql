-- A chunk of an orders bulk export into orders, order_line_items (lines of their own with
-- `__parentId`) and fulfillments (a list inside each order). $1 JSONL text, $2 shop, $3 listing
-- time (epoch seconds) for objects without `updatedAt`; as bulk-products.sql. A line item has no
-- time of its own: it is as of its order's newest state in the chunk, or of the listing.
WITH line AS (
  SELECT l::jsonb AS o FROM string_to_table($1::text, E'\n') AS l WHERE l <> ''
), listed_order AS (
  SELECT o, coalesce(shopify.to_timestamptz(o->>'updatedAt'), to_timestamp($3::double precision)) AS version_at
  FROM line WHERE o->>'id' LIKE 'gid://shopify/Order/%'
), written_order AS (
  INSERT INTO shopify.orders AS t (id, data, is_deleted, updated_at, last_event_id, synced_at)
  SELECT DISTINCT ON (id) shopify.gid_number(o->>'id') AS id, o || jsonb_build_object('shop', $2::text), false, version_at, NULL, now()
  FROM listed_order
  ORDER BY id, version_at DESC
  ON CONFLICT (id) DO UPDATE
  SET data = excluded.data, is_deleted = excluded.is_deleted, updated_at = excluded.updated_at,
      last_event_id = excluded.last_event_id, synced_at = excluded.synced_at
  WHERE t.updated_at <= excluded.updated_at
  RETURNING 1
), line_item AS (
  INSERT INTO shopify.order_line_items AS t (id, data, is_deleted, updated_at, last_event_id, synced_at)
  SELECT DISTINCT ON (id)
    shopify.gid_number(l.o->>'id') AS id,
    l.o || jsonb_build_object('shop', $2::text, 'order', jsonb_build_object('id', l.o->>'__parentId')), false,
    coalesce(parent.version_at, to_timestamp($3::double precision)) AS version_at, NULL, now()
  FROM line AS l
  LEFT JOIN (SELECT o->>'id' AS gid, max(version_at) AS version_at FROM listed_order GROUP BY 1) AS parent
    ON parent.gid = l.o->>'__parentId'
  WHERE l.o->>'id' LIKE 'gid://shopify/LineItem/%'
  ORDER BY id, version_at DESC
  ON CONFLICT (id) DO UPDATE
  SET data = excluded.data, is_deleted = excluded.is_deleted, updated_at = excluded.updated_at,
      last_event_id = excluded.last_event_id, synced_at = excluded.synced_at
  WHERE t.updated_at <= excluded.updated_at
  RETURNING 1
), fulfillment AS (
  INSERT INTO shopify.fulfillments AS t (id, data, is_deleted, updated_at, last_event_id, synced_at)
  SELECT DISTINCT ON (id)
    shopify.gid_number(f->>'id') AS id,
    f || jsonb_build_object('shop', $2::text, 'order', jsonb_build_object('id', p.o->>'id')), false,
    coalesce(shopify.to_timestamptz(f->>'updatedAt'), p.version_at) AS version_at, NULL, now()
  FROM listed_order AS p, jsonb_array_elements(coalesce(p.o->'fulfillments', '[]')) AS f
  ORDER BY id, version_at DESC
  ON CONFLICT (id) DO UPDATE
  SET data = excluded.data, is_deleted = excluded.is_deleted, updated_at = excluded.updated_at,
      last_event_id = excluded.last_event_id, synced_at = excluded.synced_at
  WHERE t.updated_at <= excluded.updated_at
  RETURNING 1
)
SELECT (SELECT count(*) FROM written_order) + (SELECT count(*) FROM line_item) + (SELECT count(*) FROM fulfillment) AS written
