-- One row per recipient ($1) × rendered channel variant ($2 channel, $3 version, $4 subject,
-- $5 body, $6 html), all with category $7, template $8, data $9, idempotency key $10, batch $11.
-- A repeated idempotency key inserts nothing for that channel. Each row names the job that will
-- carry it: itself when it is the only row, else `$12:<n>` for the rows in jobs of $13.
INSERT INTO notifications.notifications (id, user_id, channel, category, template, template_version, subject, body, html, data, idempotency_key, batch_id, delivery_job)
SELECT r.id, r.user_id, r.channel, $7, $8, r.version, r.subject, r.body, r.html, $9, $10, $11,
       CASE WHEN cardinality($1::text[]) * cardinality($2::text[]) = 1 THEN r.id::text ELSE $12::text || ':' || r.n / $13::int END
FROM (
  SELECT gen_random_uuid() AS id, u.user_id, c.channel, c.version, c.subject, c.body, c.html,
         (u.i - 1) * cardinality($2::text[]) + c.j - 1 AS n
  FROM unnest($1::text[]) WITH ORDINALITY AS u(user_id, i)
  CROSS JOIN unnest($2::text[], $3::int[], $4::text[], $5::text[], $6::text[]) WITH ORDINALITY AS c(channel, version, subject, body, html, j)
) AS r
ON CONFLICT (idempotency_key, channel) WHERE idempotency_key IS NOT NULL DO NOTHING
RETURNING id, delivery_job
