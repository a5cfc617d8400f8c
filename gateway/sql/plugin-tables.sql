-- The tables (not views) in each of the schemas $1, for comparing with what the manifests list.
SELECT table_schema AS schema, array_agg(table_name::text ORDER BY table_name) AS tables
FROM information_schema.tables
WHERE table_schema = ANY($1::text[]) AND table_type = 'BASE TABLE'
GROUP BY table_schema
