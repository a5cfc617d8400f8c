-- The digest messages ($2 users, $3 channels, $4 categories, $5 subjects, $6 bodies) of batch $1.
INSERT INTO notifications.notifications (user_id, channel, category, kind, template, subject, body, batch_id)
SELECT d.user_id, d.channel, d.category, 'digest', 'digest', d.subject, d.body, $1
FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) WITH ORDINALITY AS d(user_id, channel, category, subject, body, position)
ORDER BY d.position
RETURNING id, user_id, channel, category
