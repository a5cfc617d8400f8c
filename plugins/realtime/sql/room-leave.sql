-- User $2 leaves room $1.
DELETE FROM realtime.room_members WHERE room_id = $1 AND user_id = $2 RETURNING role
