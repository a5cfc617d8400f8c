-- Items ($1) went out in digest messages ($2, one per item).
UPDATE notifications.notifications AS n
SET status = 'sent', reason = 'in digest ' || d.digest_id, digest_id = d.digest_id, sent_at = now(), updated_at = now()
FROM unnest($1::uuid[], $2::uuid[]) AS d(id, digest_id)
WHERE n.id = d.id
