-- A chunk of an inventory items bulk export into inventory_items and inventory_levels (a level
-- comes as a line of its own with its item's `__parentId`; it is keyed "<inventory item id>/
-- <location id>", and its `available` quantity is taken out of `quantities`). $1 JSONL text,
-- $2 shop, $3 listing time (epoch seconds); as bulk-products.sql.
WITH line AS (
  SELECT l::jsonb AS o FROM string_to_table($1::text, E'\n') AS l WHERE l <> ''
), item AS (
  INSERT INTO shopify.inventory_items AS t (id, data, is_deleted, updated_at, last_event_id, synced_at)
  SELECT DISTINCT ON (id)
    shopify.gid_number(o->>'id') AS id, o || jsonb_build_object('shop', $2::text), false,
    coalesce(shopify.to_timestamptz(o->>'updatedAt'), to_timestamp($3::double precision)) AS version_at, NULL, now()
  FROM line
  WHERE o->>'id' LIKE 'gid://shopify/InventoryItem/%'
  ORDER BY id, version_at DESC
  ON CONFLICT (id) DO UPDATE
  SET data = excluded.data, is_deleted = excluded.is_deleted, updated_at = excluded.updated_at,
      last_event_id = excluded.last_event_id, synced_at = excluded.synced_at
  WHERE t.updated_at <= excluded.updated_at
  RETURNING 1
), level AS (
  INSERT INTO shopify.inventory_levels AS t (id, data, is_deleted, updated_at, last_event_id, synced_at)
  SELECT DISTINCT ON (id)
    shopify.gid_number(o->>'__parentId') || '/' || shopify.gid_number(o#>>'{location,id}') AS id,
    (o - '__parentId') || jsonb_build_object(
      'shop', $2::text, 'item', jsonb_build_object('id', o->>'__parentId'),
      'available', (SELECT (q->>'quantity')::integer FROM jsonb_array_elements(o->'quantities') AS q WHERE q->>'name' = 'available')),
    false,
    coalesce(shopify.to_timestamptz(o->>'updatedAt'), to_timestamp($3::double precision)) AS version_at, NULL, now()
  FROM line
  WHERE o->>'id' LIKE 'gid://shopify/InventoryLevel/%'
  ORDER BY id, version_at DESC
  ON CONFLICT (id) DO UPDATE
  SET data = excluded.data, is_deleted = excluded.is_deleted, updated_at = excluded.updated_at,
      last_event_id = excluded.last_event_id, synced_at = excluded.synced_at
  WHERE t.updated_at <= excluded.updated_at
  RETURNING 1
)
SELECT (SELECT count(*) FROM item) + (SELECT count(*) FROM level) AS written
