-- Children no longer listed in their parent's complete list: marked deleted (unless a newer
-- state says otherwise). $1 is a JSON array of {parent, children (ids still present), version_at};
-- {id_type} is the parent's id type (the parent column's).
UPDATE {schema}.{table} AS c
SET is_deleted = true, {version} = to_timestamp(p.version_at), synced_at = now()
FROM jsonb_to_recordset($1::jsonb) AS p(parent text, children text[], version_at double precision)
WHERE c.{parent} = p.parent::{id_type} AND NOT c.id::text = ANY(p.children) AND NOT c.is_deleted
  AND c.{version} <= to_timestamp(p.version_at)
