-- A batch of bulk sends and digests created before $1 whose notifications are all gone: $2 rows
-- at most (NULL: all), $3 a dry run (counts, deletes nothing).
WITH doomed AS (
  SELECT b.ctid FROM notifications.batches AS b
  WHERE b.created_at < $1 AND NOT EXISTS (SELECT FROM notifications.notifications AS n WHERE n.batch_id = b.id)
  LIMIT $2
), gone AS (
  DELETE FROM notifications.batches WHERE ctid = ANY(ARRAY(SELECT ctid FROM doomed)) AND NOT $3::boolean
)
SELECT count(*)::int AS rows FROM doomed
