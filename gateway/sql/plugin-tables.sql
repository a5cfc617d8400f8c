-- The tables (not views, not partitions) in each of the schemas $1, for comparing with what the
-- manifests list.
SELECT n.nspname AS schema, array_agg(c.relname::text ORDER BY c.relname) AS tables
FROM pg_class AS c
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = ANY($1::text[]) AND c.relkind IN ('r', 'p') AND NOT c.relispartition
GROUP BY n.nspname
