DELETE FROM notifications.quiet_hours WHERE user_id = $1
