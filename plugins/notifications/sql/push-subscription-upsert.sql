-- A browser's subscription belongs to whoever registered it last. User $1 has at most $5: past
-- that nothing is inserted and no row returned (the caller holds push-subscription-lock).
INSERT INTO notifications.push_subscriptions (user_id, endpoint, p256dh, auth)
SELECT $1, $2, $3, $4
WHERE (SELECT count(*) FROM notifications.push_subscriptions WHERE user_id = $1 AND endpoint <> $2) < $5::int
ON CONFLICT (endpoint) DO UPDATE SET user_id = excluded.user_id, p256dh = excluded.p256dh, auth = excluded.auth
RETURNING id, endpoint, created_at
