-- Instances silent for $1 ms are dead: their connections go, and each of their users left
-- without a connection elsewhere starts the grace period ($2 ms) from the dead instance's last
-- heartbeat (so it may already be over: the grace sweep then turns them OFFLINE at once).
WITH dead AS (
  DELETE FROM realtime.instances
  WHERE heartbeat_at < now() - make_interval(secs => $1 / 1000.0)
  RETURNING id, heartbeat_at
), gone AS (
  DELETE FROM realtime.connections AS c USING dead WHERE c.instance = dead.id
  RETURNING c.user_id, dead.heartbeat_at
)
UPDATE realtime.presence AS p
SET offline_at = g.heartbeat_at + make_interval(secs => $2 / 1000.0), last_seen = g.heartbeat_at
FROM (SELECT user_id, max(heartbeat_at) AS heartbeat_at FROM gone GROUP BY user_id) AS g
WHERE p.user_id = g.user_id
  AND p.status <> 'OFFLINE'
  AND NOT EXISTS (
    SELECT 1 FROM realtime.connections AS c
    WHERE c.user_id = p.user_id AND c.instance NOT IN (SELECT id FROM dead)
  )
RETURNING p.user_id
