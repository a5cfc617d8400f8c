-- The children of deleted parents ($1: the parents' ids).
UPDATE shopify.{table} SET is_deleted = true, synced_at = now()
WHERE {parent} = ANY($1::bigint[]) AND NOT is_deleted
