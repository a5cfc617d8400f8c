SELECT j.*, r.result
FROM jobs.jobs j
LEFT JOIN jobs.job_results r ON r.queue = j.queue AND r.job_id = j.id AND r.job_created_at IS NOT DISTINCT FROM j.job_created_at
WHERE j.queue = $1 AND j.id = $2;
