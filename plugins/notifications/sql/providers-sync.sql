-- The configured providers ($1 names, $2 channels, in configured order): new ones are added after
-- the channel's existing ones; admins' order and switches are kept. Returns the failover order.
WITH configured AS (
  SELECT name, channel, ordinality::int AS position FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS c(name, channel)
), added AS (
  INSERT INTO notifications.providers (name, channel, priority)
  SELECT c.name, c.channel, (SELECT coalesce(max(priority), 0) FROM notifications.providers AS p WHERE p.channel = c.channel) + c.position
  FROM configured AS c
  ON CONFLICT (name) DO NOTHING
  RETURNING name, channel, priority, enabled
)
SELECT name, channel, priority, enabled FROM added
UNION ALL
SELECT p.name, p.channel, p.priority, p.enabled FROM notifications.providers AS p JOIN configured AS c USING (name)
ORDER BY channel, priority, name
