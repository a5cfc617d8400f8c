-- Live instances with their connection counts (for `plugboard realtime status`).
SELECT i.id, i.started_at, i.heartbeat_at, count(c.id)::int AS connections, count(DISTINCT c.user_id)::int AS users
FROM realtime.instances AS i
LEFT JOIN realtime.connections AS c ON c.instance = i.id
GROUP BY i.id
ORDER BY i.started_at
