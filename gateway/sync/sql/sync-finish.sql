UPDATE {schema}.sync_state
SET status = 'completed', cursor = NULL, run_since = NULL, last_sync_at = $2, updated_at = now()
WHERE resource = $1
