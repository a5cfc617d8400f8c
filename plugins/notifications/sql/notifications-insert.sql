-- One row per recipient ($1) × rendered channel variant ($2 channel, $3 version, $4 subject,
-- $5 body, $6 html), all with category $7, template $8, data $9, idempotency key $10, batch $11.
-- A repeated idempotency key inserts nothing for that channel.
INSERT INTO notifications.notifications (user_id, channel, category, template, template_version, subject, body, html, data, idempotency_key, batch_id)
SELECT u.user_id, c.channel, $7, $8, c.version, c.subject, c.body, c.html, $9, $10, $11
FROM unnest($1::text[]) AS u(user_id)
CROSS JOIN unnest($2::text[], $3::int[], $4::text[], $5::text[], $6::text[]) AS c(channel, version, subject, body, html)
ON CONFLICT (idempotency_key, channel) WHERE idempotency_key IS NOT NULL DO NOTHING
RETURNING id
