-- A plugin's webhook log at a glance: events per status, the newest delivery, and the oldest
-- event still waiting to be applied.
SELECT count(*) FILTER (WHERE status = 'received')::int AS received,
       count(*) FILTER (WHERE status = 'processed')::int AS processed,
       count(*) FILTER (WHERE status = 'failed')::int AS failed,
       max(received_at) AS last_received_at,
       min(received_at) FILTER (WHERE status = 'received') AS oldest_waiting_at
FROM "{schema}".events
