-- Items ($1) whose digest could not be rendered: failed, with the reason ($2, one per item).
UPDATE notifications.notifications AS n
SET status = 'failed', reason = f.reason, failed_at = now(), updated_at = now()
FROM unnest($1::uuid[], $2::text[]) AS f(id, reason)
WHERE n.id = f.id
