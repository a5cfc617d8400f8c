SELECT job_id, attempt, error, will_retry, failed_at
FROM jobs.job_failures
WHERE job_id = ANY($1::text[])
ORDER BY job_id, failed_at, id;
