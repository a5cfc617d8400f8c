-- The configured providers ($1 names, $2 channels, in configured order): new ones are added after
-- the channel's existing ones; admins' order and switches are kept. Returns the failover order.
-- DO UPDATE of nothing, not DO NOTHING: it returns the stored row too, even one that a gateway
-- starting at the same moment committed after this statement's snapshot, which a SELECT here
-- would miss (leaving this gateway believing the provider absent).
WITH configured AS (
  SELECT name, channel, ordinality::int AS position FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS c(name, channel)
), synced AS (
  INSERT INTO notifications.providers AS p (name, channel, priority)
  SELECT c.name, c.channel, (SELECT coalesce(max(priority), 0) FROM notifications.providers AS e WHERE e.channel = c.channel) + c.position
  FROM configured AS c
  ON CONFLICT (name) DO UPDATE SET name = p.name
  RETURNING p.name, p.channel, p.priority, p.enabled
)
SELECT name, channel, priority, enabled FROM synced
ORDER BY channel, priority, name
