-- A batch with its notifications counted by status.
SELECT b.id, b.kind, b.template, b.category, b.total, b.created_at,
       count(n.id) FILTER (WHERE n.status = 'queued')::int AS queued,
       count(n.id) FILTER (WHERE n.status = 'deferred')::int AS deferred,
       count(n.id) FILTER (WHERE n.status = 'sent')::int AS sent,
       count(n.id) FILTER (WHERE n.status = 'delivered')::int AS delivered,
       count(n.id) FILTER (WHERE n.status = 'failed')::int AS failed,
       count(n.id) FILTER (WHERE n.status = 'skipped')::int AS skipped
FROM notifications.batches AS b
LEFT JOIN notifications.notifications AS n ON n.batch_id = b.id
WHERE b.id = $1
GROUP BY b.id
