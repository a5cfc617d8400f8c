-- The children of deleted parents, as of the delete (so an older state of the parent, arriving
-- later with its children, cannot bring them back). $1 is a JSON array of {parent, version_at}.
UPDATE shopify.{table} AS c
SET is_deleted = true, updated_at = greatest(c.updated_at, to_timestamp(p.version_at)), synced_at = now()
FROM jsonb_to_recordset($1::jsonb) AS p(parent bigint, version_at double precision)
WHERE c.{parent} = p.parent AND NOT c.is_deleted
