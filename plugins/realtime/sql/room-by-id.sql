-- Room $1 with user $2's role in it (null when not a member) and whether $2 is invited.
SELECT r.id, r.name, r.is_private, r.created_by, r.created_at, r.updated_at, m.role,
  EXISTS (SELECT 1 FROM realtime.room_invites AS i WHERE i.room_id = r.id AND i.user_id = $2) AS invited
FROM realtime.rooms AS r
LEFT JOIN realtime.room_members AS m ON m.room_id = r.id AND m.user_id = $2
WHERE r.id = $1
