-- Live children missing from their parent's complete list.
-- $1: parents whose whole list the provider returned ({id_type}: the parent's id type); $2: the
-- child ids in those lists.
SELECT id::text AS id FROM {schema}.{table}
WHERE NOT is_deleted AND {parent} = ANY($1::{id_type}[]) AND NOT (id::text = ANY($2::text[]))
ORDER BY id
