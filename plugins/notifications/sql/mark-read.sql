-- Marks user $1's in-app notifications read: those in $2, or all when $2 is null.
UPDATE notifications.notifications
SET read_at = now(), updated_at = now()
WHERE user_id = $1 AND channel = 'IN_APP' AND read_at IS NULL AND ($2::uuid[] IS NULL OR id = ANY($2::uuid[]))
