-- Deliveries per minute over the last hour, oldest first (a minute without any is absent), and
-- how many of them have failed for good.
SELECT date_trunc('minute', received_at) AS minute,
       count(*)::int AS received,
       count(*) FILTER (WHERE status = 'failed')::int AS failed
FROM "{schema}".events
WHERE received_at > now() - interval '1 hour'
GROUP BY 1
ORDER BY 1
