-- What delivering notifications $1 needs, read once for a batch of jobs: the row, the
-- recipient's address, the preference that applies (the category's own row, else '*'), quiet
-- hours, and for push the user's subscriptions.
SELECT n.id, n.user_id, n.address, n.channel, n.category, n.kind, n.subject, n.body, n.html, n.status, n.attempts,
       r.email, r.phone,
       p.enabled, p.digest,
       q.starts_at::text AS quiet_starts, q.ends_at::text AS quiet_ends, q.time_zone AS quiet_zone,
       CASE WHEN n.channel = 'PUSH' THEN (
         SELECT coalesce(json_agg(json_build_object('id', s.id, 'endpoint', s.endpoint, 'keys', json_build_object('p256dh', s.p256dh, 'auth', s.auth))), '[]')
         FROM notifications.push_subscriptions AS s WHERE s.user_id = n.user_id
       ) END AS push_targets
FROM notifications.notifications AS n
LEFT JOIN {{recipients}} AS r ON r.user_id = n.user_id
LEFT JOIN LATERAL (
  SELECT pr.enabled, pr.digest FROM notifications.preferences AS pr
  WHERE pr.user_id = n.user_id AND pr.channel = n.channel AND pr.category IN (n.category, '*')
  ORDER BY pr.category = '*'
  LIMIT 1
) AS p ON true
LEFT JOIN notifications.quiet_hours AS q ON q.user_id = n.user_id
WHERE n.id = ANY($1::uuid[])
