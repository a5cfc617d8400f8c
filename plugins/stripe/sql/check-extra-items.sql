-- Live subscription items missing from their subscription's complete item list.
-- $1: subscriptions whose whole item list the API returned; $2: the item ids in those lists.
SELECT id FROM stripe.subscription_items
WHERE NOT is_deleted AND subscription = ANY($1::text[]) AND NOT (id = ANY($2::text[]))
ORDER BY id
