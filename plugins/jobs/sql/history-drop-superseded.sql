-- A newer job under a reused number (BullMQ's count restarts after a Redis flush; see migration
-- 002) starts its history afresh: nothing of the earlier job's row may merge into its own.
DELETE FROM jobs.jobs j
USING jsonb_to_recordset($1::jsonb) AS r(queue text, id text, job_created_at timestamptz)
WHERE j.queue = r.queue AND j.id = r.id AND j.job_created_at < r.job_created_at;
