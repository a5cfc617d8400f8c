-- Presence of the users ($1); users never seen have no row (they are OFFLINE).
SELECT user_id, status, custom_status, last_seen FROM realtime.presence WHERE user_id = ANY($1::text[])
