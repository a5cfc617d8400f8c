SELECT to_char(starts_at, 'HH24:MI') AS starts, to_char(ends_at, 'HH24:MI') AS ends, time_zone FROM notifications.quiet_hours WHERE user_id = $1
