-- Forgets a batch of closed connections ($1) and starts the grace period ($2 ms) of each user
-- left without any connection anywhere; the grace sweep turns them OFFLINE when it ends.
WITH closed AS (
  DELETE FROM realtime.connections WHERE id = ANY($1::uuid[]) RETURNING user_id
)
UPDATE realtime.presence AS p
SET offline_at = now() + make_interval(secs => $2 / 1000.0), last_seen = now()
FROM (SELECT DISTINCT user_id FROM closed) AS users
WHERE p.user_id = users.user_id
  AND p.status <> 'OFFLINE'
  AND NOT EXISTS (SELECT 1 FROM realtime.connections AS c WHERE c.user_id = p.user_id AND c.id <> ALL($1::uuid[]))
