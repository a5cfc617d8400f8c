-- Whether any of these ids has a row already (a batch of only new rows can be copied in).
SELECT EXISTS (SELECT 1 FROM stripe."{table}" WHERE id = ANY($1::text[])) AS any
