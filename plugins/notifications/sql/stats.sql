-- Notifications created since $1, by channel and status.
SELECT channel, status, count(*)::int AS count
FROM notifications.notifications
WHERE created_at >= $1
GROUP BY channel, status
ORDER BY channel, status
