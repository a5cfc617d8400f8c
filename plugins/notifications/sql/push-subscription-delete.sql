DELETE FROM notifications.push_subscriptions WHERE user_id = $1 AND endpoint = $2
