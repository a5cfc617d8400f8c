-- A browser's subscription belongs to whoever registered it last.
INSERT INTO notifications.push_subscriptions (user_id, endpoint, p256dh, auth) VALUES ($1, $2, $3, $4)
ON CONFLICT (endpoint) DO UPDATE SET user_id = excluded.user_id, p256dh = excluded.p256dh, auth = excluded.auth
RETURNING id, endpoint, created_at
