INSERT INTO jobs.job_results AS r (job_id, queue, attempt, result, completed_at)
SELECT job_id, queue, attempt, result, completed_at
FROM jsonb_to_recordset($1::jsonb) AS x(job_id text, queue text, attempt integer, result jsonb, completed_at timestamptz)
ON CONFLICT (job_id) DO UPDATE SET attempt = EXCLUDED.attempt, result = EXCLUDED.result, completed_at = EXCLUDED.completed_at
WHERE r.completed_at <= EXCLUDED.completed_at;
