-- $3 invites user $2 to room $1 (unless they are a member already).
INSERT INTO realtime.room_invites (room_id, user_id, invited_by)
SELECT $1, $2, $3
WHERE NOT EXISTS (SELECT 1 FROM realtime.room_members WHERE room_id = $1 AND user_id = $2)
ON CONFLICT (room_id, user_id) DO NOTHING
RETURNING invited_at
