-- Objects of one API page that the table lacks (or holds as deleted) or holds in another state.
-- $1 is a JSON array of the objects as the API returned them; jsonb equality ignores key order.
SELECT o->>'id' AS id, CASE WHEN t.id IS NULL OR t.is_deleted THEN 'missing' ELSE 'stale' END AS problem
FROM jsonb_array_elements($1::jsonb) AS o
LEFT JOIN stripe."{table}" AS t ON t.id = o->>'id'
WHERE t.id IS NULL OR t.is_deleted OR t.data <> o
