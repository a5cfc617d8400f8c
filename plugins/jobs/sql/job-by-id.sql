SELECT j.*, r.result
FROM jobs.jobs j
LEFT JOIN jobs.job_results r ON r.job_id = j.id
WHERE j.id = $1;
