-- Live rows whose ids the API did not list ($1: every id it listed).
SELECT id FROM stripe."{table}" WHERE NOT is_deleted AND NOT (id = ANY($1::text[])) ORDER BY id
