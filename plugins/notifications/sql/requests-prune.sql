-- A batch of notification requests (the record of what was asked through Hasura) created before
-- $1: $2 rows at most (NULL: all), $3 a dry run (counts, deletes nothing).
WITH doomed AS (
  SELECT ctid FROM notifications.requests WHERE created_at < $1 LIMIT $2
), gone AS (
  DELETE FROM notifications.requests WHERE ctid = ANY(ARRAY(SELECT ctid FROM doomed)) AND NOT $3::boolean
)
SELECT count(*)::int AS rows FROM doomed
