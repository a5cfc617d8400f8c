-- A plain-text in-app notice (no template) to users $1: subject $2, body $3, category $4. With a
-- key $5, each user's row is keyed "<key>:<user id>", so a repeated notice inserts nothing.
INSERT INTO notifications.notifications (user_id, channel, category, subject, body, idempotency_key)
SELECT u.user_id, 'IN_APP', $4, $2, $3, CASE WHEN $5::text IS NULL THEN NULL ELSE $5 || ':' || u.user_id END
FROM unnest($1::text[]) AS u(user_id)
ON CONFLICT (idempotency_key, channel) WHERE idempotency_key IS NOT NULL DO NOTHING
RETURNING id
