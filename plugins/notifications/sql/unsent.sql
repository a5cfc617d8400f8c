-- Notifications that may have lost their delivery job: still queued and never attempted, carried
-- by a queue job, stored more than $1 seconds ago, after the key ($2 stored at, $3 job; NULLs
-- from the start), oldest first, at most $4. A job's rows were stored together, so they come
-- together in this order.
SELECT id, delivery_job, created_at::text AS stored_at
FROM notifications.notifications
WHERE status = 'queued' AND attempts = 0 AND delivery_job IS NOT NULL
  AND created_at < now() - make_interval(secs => $1)
  AND ($2::timestamptz IS NULL OR (created_at, delivery_job) > ($2, $3))
ORDER BY created_at, delivery_job
LIMIT $4
