SELECT id FROM notifications.notifications WHERE idempotency_key = $1 ORDER BY channel
