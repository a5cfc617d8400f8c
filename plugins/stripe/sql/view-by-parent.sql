-- The newest rows of one resource table for each parent id, at most $2 per parent, deleted rows
-- left out. {column} (from views.ts) holds the parent's id; an index on it serves each lateral.
SELECT {columns}, parent.id AS parent_id
FROM unnest($1::text[]) AS parent(id)
CROSS JOIN LATERAL (
  SELECT r.*
  FROM stripe."{table}" AS r
  WHERE r."{column}" = parent.id AND NOT r.is_deleted
  ORDER BY r.created DESC, r.id DESC
  LIMIT $2
) AS t
