-- A resource's backfill starts (or resumes from $4, the cursor it checkpointed).
INSERT INTO {schema}.sync_state (resource, status, run_id, run_since, cursor, last_error, updated_at)
VALUES ($1, 'running', $2, $3, $4, NULL, now())
ON CONFLICT (resource) DO UPDATE
SET status = 'running', run_id = excluded.run_id, run_since = excluded.run_since, cursor = excluded.cursor, last_error = NULL, updated_at = now()
