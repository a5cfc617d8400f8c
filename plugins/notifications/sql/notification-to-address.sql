-- An email to a bare address (the jobs plugin's send-email), once per key $1.
INSERT INTO notifications.notifications (address, channel, category, template, template_version, subject, body, html, data, idempotency_key)
VALUES ($2, 'EMAIL', 'transactional', $3, $4, $5, $6, $7, $8, $1)
ON CONFLICT (idempotency_key, channel) WHERE idempotency_key IS NOT NULL DO UPDATE SET updated_at = now()
RETURNING id
