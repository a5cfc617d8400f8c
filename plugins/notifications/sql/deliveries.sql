-- A page of every user's notifications (admins), newest first, after the cursor ($2 created_at,
-- $3 id), at most $1; of one status ($4) and channel ($5) when given.
SELECT id, user_id, channel, category, template, subject, body, status, reason, provider, attempts, read_at, created_at, sent_at, created_at::text AS cursor_at
FROM notifications.notifications
WHERE ($4::text IS NULL OR status = $4)
  AND ($5::text IS NULL OR channel = $5)
  AND ($2::timestamptz IS NULL OR (created_at, id) < ($2::timestamptz, $3::uuid))
ORDER BY created_at DESC, id DESC
LIMIT $1
