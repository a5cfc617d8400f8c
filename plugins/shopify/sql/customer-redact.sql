-- customers/redact: the customer's personal data erased from every table. The customer row is
-- removed; their orders (and those named) keep their non-personal fields only, as do those
-- orders' fulfillments and line items; results of the customer's data requests are dropped;
-- webhook bodies about the customer or those orders are erased alike in the log.
-- $1 event id, $2 shop, $3 customer id, $4 the order ids to redact.
WITH redacted_orders AS (
  UPDATE shopify.orders SET data = shopify.without_personal_data(data), synced_at = now()
  WHERE shop = $2 AND (id = ANY($4::bigint[]) OR customer_id = $3::bigint)
  RETURNING id
), order_ids AS (
  SELECT id FROM redacted_orders UNION SELECT unnest($4::bigint[])
), removed_customer AS (
  DELETE FROM shopify.customers WHERE shop = $2 AND id = $3::bigint RETURNING id
), redacted_fulfillments AS (
  UPDATE shopify.fulfillments SET data = data - shopify.personal_keys('fulfillment'), synced_at = now()
  WHERE shop = $2 AND order_id IN (SELECT id FROM order_ids) RETURNING id
), redacted_line_items AS (
  UPDATE shopify.order_line_items SET data = data - shopify.personal_keys('line_item'), synced_at = now()
  WHERE shop = $2 AND order_id IN (SELECT id FROM order_ids) RETURNING id
), dropped_results AS (
  UPDATE shopify.privacy_requests SET result = NULL
  WHERE shop = $2 AND customer_id = $3::bigint AND result IS NOT NULL RETURNING event_id
), redacted_events AS (
  UPDATE shopify.events SET payload = jsonb_set(payload, '{body}', CASE
      WHEN type IN ('customers/data_request', 'customers/redact')
        THEN (payload->'body') #- '{customer,email}' #- '{customer,phone}'
      WHEN type LIKE 'customers/%' THEN jsonb_build_object('id', payload#>'{body,id}')
      WHEN type LIKE 'orders/%' THEN shopify.without_personal_data(payload->'body')
      ELSE (payload->'body') - shopify.personal_keys('fulfillment') END)
  WHERE shop = $2 AND (
       (type IN ('customers/data_request', 'customers/redact') AND payload#>>'{body,customer,id}' = $3::bigint::text)
    OR (type LIKE 'customers/%' AND type NOT IN ('customers/data_request', 'customers/redact')
        AND payload#>>'{body,id}' = $3::bigint::text)
    OR (type LIKE 'orders/%' AND (payload#>>'{body,customer,id}' = $3::bigint::text
        OR payload#>>'{body,id}' IN (SELECT id::text FROM order_ids)))
    OR (type LIKE 'fulfillments/%' AND payload#>>'{body,order_id}' IN (SELECT id::text FROM order_ids)))
  RETURNING id
)
INSERT INTO shopify.privacy_requests (event_id, kind, shop, customer_id, order_ids)
VALUES ($1, 'customers/redact', $2, $3::bigint, (SELECT coalesce(array_agg(id ORDER BY id), '{}') FROM order_ids))
ON CONFLICT (event_id) DO NOTHING
