-- A user sets their status ($2) and custom status ($3).
INSERT INTO realtime.presence AS p (user_id, status, custom_status, last_seen)
VALUES ($1, $2, $3, now())
ON CONFLICT (user_id) DO UPDATE SET status = $2, custom_status = $3, last_seen = now(), offline_at = NULL
RETURNING p.user_id, p.status, p.custom_status, p.last_seen
