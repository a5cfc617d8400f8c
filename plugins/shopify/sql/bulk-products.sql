-- A chunk of a products bulk export into products and product_variants. $1: the JSONL text
-- (products, then each product's variants with `__parentId`); $2: the shop; $3: when it was
-- listed (epoch seconds), the time of an object without `updatedAt`. Each line is parsed once;
-- the newest state of an id wins, rows are written in id order, and a row holding a newer state
-- is kept. A variant is stored in the GraphQL shape, its product as `product.id`.
WITH line AS (
  SELECT l::jsonb AS o FROM string_to_table($1::text, E'\n') AS l WHERE l <> ''
), product AS (
  INSERT INTO shopify.products AS t (id, data, is_deleted, updated_at, last_event_id, synced_at)
  SELECT DISTINCT ON (id)
    shopify.gid_number(o->>'id') AS id, o || jsonb_build_object('shop', $2::text), false,
    coalesce(shopify.to_timestamptz(o->>'updatedAt'), to_timestamp($3::double precision)) AS version_at, NULL, now()
  FROM line
  WHERE o->>'id' LIKE 'gid://shopify/Product/%'
  ORDER BY id, version_at DESC
  ON CONFLICT (id) DO UPDATE
  SET data = excluded.data, is_deleted = excluded.is_deleted, updated_at = excluded.updated_at,
      last_event_id = excluded.last_event_id, synced_at = excluded.synced_at
  WHERE t.updated_at <= excluded.updated_at
  RETURNING 1
), variant AS (
  INSERT INTO shopify.product_variants AS t (id, data, is_deleted, updated_at, last_event_id, synced_at)
  SELECT DISTINCT ON (id)
    shopify.gid_number(o->>'id') AS id,
    (o - '__parentId') || jsonb_build_object('shop', $2::text, 'product', jsonb_build_object('id', o->>'__parentId')),
    false,
    coalesce(shopify.to_timestamptz(o->>'updatedAt'), to_timestamp($3::double precision)) AS version_at, NULL, now()
  FROM line
  WHERE o->>'id' LIKE 'gid://shopify/ProductVariant/%'
  ORDER BY id, version_at DESC
  ON CONFLICT (id) DO UPDATE
  SET data = excluded.data, is_deleted = excluded.is_deleted, updated_at = excluded.updated_at,
      last_event_id = excluded.last_event_id, synced_at = excluded.synced_at
  WHERE t.updated_at <= excluded.updated_at
  RETURNING 1
)
SELECT (SELECT count(*) FROM product) + (SELECT count(*) FROM variant) AS written
