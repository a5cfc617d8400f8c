-- What is synced of each shop: rows per main table, and whether the shop is active.
SELECT s.domain AS shop, s.uninstalled_at IS NULL AS active,
  (SELECT count(*)::int FROM shopify.products AS p WHERE p.shop = s.domain AND NOT p.is_deleted) AS products,
  (SELECT count(*)::int FROM shopify.customers AS c WHERE c.shop = s.domain AND NOT c.is_deleted) AS customers,
  (SELECT count(*)::int FROM shopify.orders AS o WHERE o.shop = s.domain AND NOT o.is_deleted) AS orders
FROM shopify.shops AS s
ORDER BY s.domain
