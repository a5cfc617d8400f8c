UPDATE notifications.push_subscriptions SET last_sent_at = now() WHERE id = ANY($1::uuid[])
