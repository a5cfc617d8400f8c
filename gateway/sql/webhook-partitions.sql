-- The partitions of a plugin's webhook log with their ranges (from_at NULL: from MINVALUE; the
-- default partition has neither) and the planner's estimate of their rows (-1: never analyzed).
SELECT c.relname AS name,
       pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT' AS is_default,
       (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'FROM \(''([^'']*)''\)'))[1]::timestamptz AS from_at,
       (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \(''([^'']*)''\)'))[1]::timestamptz AS to_at,
       c.reltuples::bigint AS estimated_rows
FROM pg_inherits AS i
JOIN pg_class AS c ON c.oid = i.inhrelid
WHERE i.inhparent = '"{schema}".events'::regclass
ORDER BY to_at NULLS LAST
