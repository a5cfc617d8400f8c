-- A batch of finished jobs created before $1, with their results and failures: $2 jobs at most
-- (NULL: all), $3 a dry run (counts, deletes nothing). Waiting, delayed and active jobs stay.
WITH doomed AS (
  SELECT ctid, queue, id FROM jobs.jobs
  WHERE created_at < $1 AND state IN ('completed', 'failed', 'cancelled')
  LIMIT $2
), gone AS (
  DELETE FROM jobs.jobs WHERE ctid = ANY(ARRAY(SELECT ctid FROM doomed)) AND NOT $3::boolean
), results AS (
  DELETE FROM jobs.job_results AS r USING doomed AS d
  WHERE r.queue = d.queue AND r.job_id = d.id AND NOT $3::boolean
), failures AS (
  DELETE FROM jobs.job_failures AS f USING doomed AS d
  WHERE f.queue = d.queue AND f.job_id = d.id AND NOT $3::boolean
)
SELECT count(*)::int AS rows FROM doomed
