-- The resources a failed run left running keep their cursor, for the next run to resume.
UPDATE {schema}.sync_state
SET status = 'failed', last_error = $2, updated_at = now()
WHERE run_id = $1 AND status = 'running'
