-- Rooms with member and online counts, most members first (for `plugboard realtime rooms`).
SELECT r.id, r.name, r.is_private, r.created_by, r.created_at,
  count(m.user_id)::int AS members,
  count(m.user_id) FILTER (WHERE p.status IS NOT NULL AND p.status <> 'OFFLINE')::int AS online
FROM realtime.rooms AS r
LEFT JOIN realtime.room_members AS m ON m.room_id = r.id
LEFT JOIN realtime.presence AS p ON p.user_id = m.user_id
GROUP BY r.id
ORDER BY members DESC, r.created_at DESC
LIMIT $1
