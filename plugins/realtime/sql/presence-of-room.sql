-- Members of room $1 who are not OFFLINE, with their presence.
SELECT p.user_id, p.status, p.custom_status, p.last_seen
FROM realtime.room_members AS m
JOIN realtime.presence AS p USING (user_id)
WHERE m.room_id = $1 AND p.status <> 'OFFLINE'
ORDER BY p.user_id
