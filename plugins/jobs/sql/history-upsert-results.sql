-- The last result of each job ($1: JSON array). A newer job under a reused number replaces an
-- earlier job's result (one from before migration 002, without job_created_at, counts as earlier).
INSERT INTO jobs.job_results AS r (job_id, queue, job_created_at, attempt, result, completed_at)
SELECT job_id, queue, job_created_at, attempt, result, completed_at
FROM jsonb_to_recordset($1::jsonb) AS x(job_id text, queue text, job_created_at timestamptz, attempt integer, result jsonb, completed_at timestamptz)
ON CONFLICT (queue, job_id) DO UPDATE SET job_created_at = EXCLUDED.job_created_at, attempt = EXCLUDED.attempt, result = EXCLUDED.result, completed_at = EXCLUDED.completed_at
WHERE (EXCLUDED.job_created_at IS NOT NULL AND (r.job_created_at IS NULL OR r.job_created_at < EXCLUDED.job_created_at))
   OR (EXCLUDED.job_created_at IS NOT DISTINCT FROM r.job_created_at AND r.completed_at <= EXCLUDED.completed_at);
