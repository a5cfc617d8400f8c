-- Which of the users ($2) share a room with user $1.
SELECT DISTINCT other.user_id
FROM realtime.room_members AS mine
JOIN realtime.room_members AS other ON other.room_id = mine.room_id
WHERE mine.user_id = $1 AND other.user_id = ANY($2::text[])
