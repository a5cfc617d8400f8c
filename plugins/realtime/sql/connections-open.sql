-- Records a batch of new connections ($2 ids, $3 users) of instance $1 and marks their users
-- present: a user who was OFFLINE (or never seen) comes ONLINE (came_online: publish it), one
-- inside the grace period simply stays (offline_at cleared), AWAY and BUSY are kept. All CTEs
-- read the same snapshot, so `before` holds the statuses as they were.
WITH opened AS (
  INSERT INTO realtime.connections (id, instance, user_id)
  SELECT id, $1, user_id FROM unnest($2::uuid[], $3::text[]) AS c (id, user_id)
  RETURNING user_id
), users AS (
  SELECT DISTINCT user_id FROM opened
), before AS (
  SELECT p.user_id, p.status FROM realtime.presence AS p JOIN users USING (user_id)
), upserted AS (
  INSERT INTO realtime.presence AS p (user_id, status, last_seen, offline_at)
  SELECT user_id, 'ONLINE', now(), NULL FROM users
  ON CONFLICT (user_id) DO UPDATE SET
    offline_at = NULL,
    last_seen = now(),
    status = CASE WHEN p.status = 'OFFLINE' THEN 'ONLINE' ELSE p.status END
  RETURNING p.user_id, p.status, p.custom_status, p.last_seen
)
SELECT u.user_id, u.status, u.custom_status, u.last_seen
FROM upserted AS u LEFT JOIN before AS b USING (user_id)
WHERE b.status IS NULL OR b.status = 'OFFLINE'
