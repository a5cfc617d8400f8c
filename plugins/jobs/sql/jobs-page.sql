-- A page of jobs, newest first, filtered; keyset-paged on (created_at, id) after the cursor $4/$5.
SELECT j.*, r.result, j.created_at::text AS cursor_at
FROM jobs.jobs j
LEFT JOIN jobs.job_results r ON r.queue = j.queue AND r.job_id = j.id AND r.job_created_at IS NOT DISTINCT FROM j.job_created_at
WHERE ($1::text IS NULL OR j.queue = $1)
  AND ($2::text IS NULL OR j.state = $2)
  AND ($3::text IS NULL OR j.type = $3)
  AND ($4::timestamptz IS NULL OR (j.created_at, j.id) < ($4, $5))
  AND ($6::text IS NULL OR j.requested_by = $6)
ORDER BY j.created_at DESC, j.id DESC
LIMIT $7;
