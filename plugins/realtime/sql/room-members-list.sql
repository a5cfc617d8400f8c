-- A room's members with their presence, first joined first, at most $2 (the console).
SELECT m.user_id, m.role, m.joined_at, coalesce(p.status, 'OFFLINE') AS status
FROM realtime.room_members AS m
LEFT JOIN realtime.presence AS p ON p.user_id = m.user_id
WHERE m.room_id = $1
ORDER BY m.joined_at, m.user_id
LIMIT $2
