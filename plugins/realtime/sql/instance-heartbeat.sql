-- Instance $1 is alive; its connections' last_seen moves at most once a minute each.
WITH beat AS (
  INSERT INTO realtime.instances (id) VALUES ($1)
  ON CONFLICT (id) DO UPDATE SET heartbeat_at = now()
)
UPDATE realtime.connections SET last_seen = now()
WHERE instance = $1 AND last_seen < now() - interval '1 minute'
