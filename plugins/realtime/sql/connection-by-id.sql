-- One connection (for `plugboard realtime disconnect`).
SELECT id, instance, user_id, connected_at FROM realtime.connections WHERE id = $1
