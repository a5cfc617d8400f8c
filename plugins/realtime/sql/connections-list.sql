-- Open connections, newest first, of one instance when $1 is given, at most $2 (the console).
SELECT id, instance, user_id, connected_at, last_seen
FROM realtime.connections
WHERE ($1::text IS NULL OR instance = $1)
ORDER BY connected_at DESC, id
LIMIT $2
