-- After each page, in the page's transaction: where to continue from.
UPDATE {schema}.sync_state
SET cursor = $2, objects_synced = objects_synced + $3, updated_at = now()
WHERE resource = $1
