-- A newer job under a reused number (BullMQ's count restarts after a Redis flush; see migration
-- 002) starts its history afresh: nothing of the earlier job's row may merge into its own. A row
-- without job_created_at under such a number predates migration 002: not known to be this job.
DELETE FROM jobs.jobs j
USING jsonb_to_recordset($1::jsonb) AS r(queue text, id text, job_created_at timestamptz)
WHERE j.queue = r.queue AND j.id = r.id AND r.job_created_at IS NOT NULL
  AND (j.job_created_at IS NULL OR j.job_created_at < r.job_created_at);
