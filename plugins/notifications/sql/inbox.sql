-- A page of user $1's in-app notifications, newest first, after the cursor ($3 created_at,
-- $4 id), at most $2; unread only when $5.
SELECT id, user_id, channel, category, template, subject, body, status, reason, provider, attempts, read_at, created_at, sent_at, created_at::text AS cursor_at
FROM notifications.notifications
WHERE user_id = $1 AND channel = 'IN_APP' AND status = 'delivered'
  AND (NOT $5 OR read_at IS NULL)
  AND ($3::timestamptz IS NULL OR (created_at, id) < ($3::timestamptz, $4::uuid))
ORDER BY created_at DESC, id DESC
LIMIT $2
