-- A page of the rooms user $1 is a member of, newest membership first, after the cursor
-- ($3 joined_at, $4 room id; null for the first page), at most $2.
SELECT r.id, r.name, r.is_private, r.created_by, r.created_at, r.updated_at, m.role, m.joined_at::text AS cursor_at
FROM realtime.room_members AS m
JOIN realtime.rooms AS r ON r.id = m.room_id
WHERE m.user_id = $1
  AND ($3::timestamptz IS NULL OR (m.joined_at, m.room_id) < ($3::timestamptz, $4::uuid))
ORDER BY m.joined_at DESC, m.room_id DESC
LIMIT $2
