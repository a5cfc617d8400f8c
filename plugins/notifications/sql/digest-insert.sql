-- The digest messages ($2 users, $3 channels, $4 categories, $5 subjects, $6 bodies) of batch $1.
-- Each names the job that will carry it: itself when it is the only one, else `$7:<n>` for the
-- messages in jobs of $8.
INSERT INTO notifications.notifications (id, user_id, channel, category, kind, template, subject, body, batch_id, delivery_job)
SELECT d.id, d.user_id, d.channel, d.category, 'digest', 'digest', d.subject, d.body, $1,
       CASE WHEN cardinality($2::text[]) = 1 THEN d.id::text ELSE $7::text || ':' || (d.position - 1) / $8::int END
FROM (
  SELECT gen_random_uuid() AS id, *
  FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) WITH ORDINALITY AS u(user_id, channel, category, subject, body, position)
) AS d
ORDER BY d.position
RETURNING id, user_id, channel, category, delivery_job
