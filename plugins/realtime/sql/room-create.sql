-- A room ($1 name, $2 private) created by $3, who becomes its owner.
WITH room AS (
  INSERT INTO realtime.rooms (name, is_private, created_by) VALUES ($1, $2, $3)
  RETURNING id, name, is_private, created_by, created_at, updated_at
), owner AS (
  INSERT INTO realtime.room_members (room_id, user_id, role) SELECT id, $3, 'owner' FROM room
)
SELECT * FROM room
