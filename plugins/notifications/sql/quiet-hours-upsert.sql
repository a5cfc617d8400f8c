INSERT INTO notifications.quiet_hours (user_id, starts_at, ends_at, time_zone) VALUES ($1, $2, $3, $4)
ON CONFLICT (user_id) DO UPDATE SET starts_at = excluded.starts_at, ends_at = excluded.ends_at, time_zone = excluded.time_zone, updated_at = now()
