SELECT channel, category, enabled, digest FROM notifications.preferences WHERE user_id = $1 ORDER BY channel, category
