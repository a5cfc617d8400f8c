INSERT INTO notifications.recipients (user_id, email, phone) VALUES ($1, $2, $3)
ON CONFLICT (user_id) DO UPDATE SET email = excluded.email, phone = excluded.phone, updated_at = now()
RETURNING user_id, email, phone
