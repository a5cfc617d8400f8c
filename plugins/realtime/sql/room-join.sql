-- User $2 joins room $1 (using up an invitation if there is one); nothing when already in it.
WITH invite AS (
  DELETE FROM realtime.room_invites WHERE room_id = $1 AND user_id = $2
)
INSERT INTO realtime.room_members (room_id, user_id, role) VALUES ($1, $2, 'member')
ON CONFLICT (room_id, user_id) DO NOTHING
RETURNING joined_at
