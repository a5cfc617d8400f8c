-- Jobs finished per minute over the last hour, of one queue when $1 is given, from the history
-- (either adapter's); a minute without any is absent.
SELECT date_trunc('minute', finished_at) AS minute,
       count(*) FILTER (WHERE state = 'completed')::int AS completed,
       count(*) FILTER (WHERE state = 'failed')::int AS failed
FROM jobs.jobs
WHERE finished_at > now() - interval '1 hour'
  AND ($1::text IS NULL OR queue = $1)
GROUP BY 1
ORDER BY 1
