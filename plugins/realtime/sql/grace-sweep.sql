-- Users whose grace period is over and who still have no connection turn OFFLINE; the instance
-- whose UPDATE takes a row publishes it (returned once, whichever instance sweeps).
UPDATE realtime.presence AS p
SET status = 'OFFLINE', offline_at = NULL
WHERE p.offline_at <= now()
  AND NOT EXISTS (SELECT 1 FROM realtime.connections AS c WHERE c.user_id = p.user_id)
RETURNING p.user_id, p.status, p.custom_status, p.last_seen
