INSERT INTO jobs.job_failures (job_id, queue, job_created_at, attempt, error, will_retry, failed_at)
SELECT job_id, queue, job_created_at, attempt, error, will_retry, failed_at
FROM jsonb_to_recordset($1::jsonb) AS x(job_id text, queue text, job_created_at timestamptz, attempt integer, error text, will_retry boolean, failed_at timestamptz);
