-- A batch of settled notifications (sent, delivered, failed, skipped) created before $1: $2 rows
-- at most (NULL: all), $3 a dry run (counts, deletes nothing). Queued and deferred ones stay,
-- and so does a digest until the items it gathered (older than it) are gone.
WITH doomed AS (
  SELECT n.ctid FROM notifications.notifications AS n
  WHERE n.created_at < $1 AND n.status IN ('sent', 'delivered', 'failed', 'skipped')
    AND NOT EXISTS (SELECT FROM notifications.notifications AS item WHERE item.digest_id = n.id)
  LIMIT $2
), gone AS (
  DELETE FROM notifications.notifications WHERE ctid = ANY(ARRAY(SELECT ctid FROM doomed)) AND NOT $3::boolean
)
SELECT count(*)::int AS rows FROM doomed
