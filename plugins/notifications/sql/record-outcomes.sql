-- Delivery outcomes of many notifications in one statement: status, reason, provider and its
-- message id, attempts so far, and when a deferred one may go.
UPDATE notifications.notifications AS n
SET status = o.status,
    reason = o.reason,
    provider = coalesce(o.provider, n.provider),
    provider_message_id = coalesce(o.message_id, n.provider_message_id),
    attempts = greatest(n.attempts, o.attempts),
    send_after = o.send_after,
    updated_at = now(),
    sent_at = CASE WHEN o.status IN ('sent', 'delivered') THEN now() ELSE n.sent_at END,
    failed_at = CASE WHEN o.status = 'failed' THEN now() ELSE n.failed_at END
FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::timestamptz[])
  AS o(id, status, reason, provider, message_id, attempts, send_after)
WHERE n.id = o.id
