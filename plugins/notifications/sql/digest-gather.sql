-- Notifications waiting for the digest, created before $1, locked (SKIP LOCKED: another
-- instance's digest run takes the others) and grouped per user × channel × category.
WITH pending AS (
  SELECT id, user_id, channel, category, subject, body, created_at
  FROM notifications.notifications
  WHERE status = 'deferred' AND send_after IS NULL AND kind = 'single' AND created_at < $1
  ORDER BY created_at
  FOR UPDATE SKIP LOCKED
)
SELECT user_id, channel, category,
       json_agg(json_build_object('id', id, 'subject', subject, 'body', body, 'createdAt', created_at) ORDER BY created_at) AS items
FROM pending
GROUP BY user_id, channel, category
