-- The failed attempts of jobs named by ($1 queues, $2 ids) pairs; those of an earlier job under a
-- reused number are not theirs.
SELECT f.queue, f.job_id, f.attempt, f.error, f.will_retry, f.failed_at
FROM unnest($1::text[], $2::text[]) AS k(queue, id)
JOIN jobs.jobs j ON j.queue = k.queue AND j.id = k.id
JOIN jobs.job_failures f ON f.queue = j.queue AND f.job_id = j.id AND f.job_created_at IS NOT DISTINCT FROM j.job_created_at
ORDER BY f.queue, f.job_id, f.failed_at, f.id;
