-- A plain-text in-app notice (no template) to users $1: subject $2, body $3, category $4. With a
-- key $5, each user's row is keyed "<key>:<user id>", so a repeated notice inserts nothing. Each
-- row names the job that will carry it: itself when it is the only row, else `$6:<n>` for the
-- rows in jobs of $7.
INSERT INTO notifications.notifications (id, user_id, channel, category, subject, body, idempotency_key, delivery_job)
SELECT r.id, r.user_id, 'IN_APP', $4, $2, $3, CASE WHEN $5::text IS NULL THEN NULL ELSE $5 || ':' || r.user_id END,
       CASE WHEN cardinality($1::text[]) = 1 THEN r.id::text ELSE $6::text || ':' || (r.i - 1) / $7::int END
FROM (SELECT gen_random_uuid() AS id, u.user_id, u.i FROM unnest($1::text[]) WITH ORDINALITY AS u(user_id, i)) AS r
ON CONFLICT (idempotency_key, channel) WHERE idempotency_key IS NOT NULL DO NOTHING
RETURNING id, delivery_job
