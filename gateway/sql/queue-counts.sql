-- Jobs of one pg-boss queue by the queue port's states.
SELECT
  count(*) FILTER (WHERE state IN ('created', 'retry') AND start_after <= now())::int AS waiting,
  count(*) FILTER (WHERE state IN ('created', 'retry') AND start_after > now())::int  AS delayed,
  count(*) FILTER (WHERE state = 'active')::int                                       AS active,
  count(*) FILTER (WHERE state = 'completed')::int                                    AS completed,
  count(*) FILTER (WHERE state = 'failed')::int                                       AS failed,
  count(*) FILTER (WHERE state = 'cancelled')::int                                    AS cancelled
FROM pgboss.job
WHERE name = $1;
