-- shop/redact: every row of the shop is deleted, in every table (its webhook log and sessions
-- too); a record that the shop was erased is kept. $1 event id, $2 shop.
WITH
  products AS (DELETE FROM shopify.products WHERE shop = $2 RETURNING 1),
  product_variants AS (DELETE FROM shopify.product_variants WHERE shop = $2 RETURNING 1),
  collections AS (DELETE FROM shopify.collections WHERE shop = $2 RETURNING 1),
  collection_products AS (DELETE FROM shopify.collection_products WHERE shop = $2 RETURNING 1),
  customers AS (DELETE FROM shopify.customers WHERE shop = $2 RETURNING 1),
  orders AS (DELETE FROM shopify.orders WHERE shop = $2 RETURNING 1),
  order_line_items AS (DELETE FROM shopify.order_line_items WHERE shop = $2 RETURNING 1),
  fulfillments AS (DELETE FROM shopify.fulfillments WHERE shop = $2 RETURNING 1),
  inventory_items AS (DELETE FROM shopify.inventory_items WHERE shop = $2 RETURNING 1),
  inventory_levels AS (DELETE FROM shopify.inventory_levels WHERE shop = $2 RETURNING 1),
  locations AS (DELETE FROM shopify.locations WHERE shop = $2 RETURNING 1),
  sessions AS (DELETE FROM shopify.sessions WHERE shop = $2 RETURNING 1),
  shops AS (DELETE FROM shopify.shops WHERE domain = $2 RETURNING 1),
  requests AS (DELETE FROM shopify.privacy_requests WHERE shop = $2 AND event_id <> $1 RETURNING 1),
  events AS (DELETE FROM shopify.events WHERE shop = $2 AND id <> $1 RETURNING 1)
INSERT INTO shopify.privacy_requests (event_id, kind, shop) VALUES ($1, 'shop/redact', $2)
ON CONFLICT (event_id) DO NOTHING
