-- customers/data_request: the customer's stored data, gathered from every table that holds it
-- (the customer, their orders and the orders asked for, those orders' line items and
-- fulfillments), kept as the request's result. $1 event id, $2 shop, $3 customer id,
-- $4 data request id, $5 the order ids asked for.
WITH wanted AS (
  SELECT id, data FROM shopify.orders WHERE shop = $2 AND (id = ANY($5::bigint[]) OR customer_id = $3::bigint)
)
INSERT INTO shopify.privacy_requests (event_id, kind, shop, customer_id, data_request_id, order_ids, result)
VALUES ($1, 'customers/data_request', $2, $3::bigint, $4::bigint, $5::bigint[], jsonb_build_object(
  'customers', (SELECT coalesce(jsonb_agg(c.data ORDER BY c.id), '[]') FROM shopify.customers c WHERE c.shop = $2 AND c.id = $3::bigint),
  'orders', (SELECT coalesce(jsonb_agg(w.data ORDER BY w.id), '[]') FROM wanted w),
  'order_line_items', (SELECT coalesce(jsonb_agg(l.data ORDER BY l.id), '[]') FROM shopify.order_line_items l
                       WHERE l.shop = $2 AND l.order_id IN (SELECT id FROM wanted)),
  'fulfillments', (SELECT coalesce(jsonb_agg(f.data ORDER BY f.id), '[]') FROM shopify.fulfillments f
                   WHERE f.shop = $2 AND f.order_id IN (SELECT id FROM wanted))))
ON CONFLICT (event_id) DO NOTHING
