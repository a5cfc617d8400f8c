-- The whole Stripe objects of rows of one resource table, for clients that ask for `data`.
SELECT id, data FROM stripe."{table}" WHERE id = ANY($1::text[])
