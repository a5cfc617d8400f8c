-- A batch of analytics events older than $1: $2 rows at most (NULL: all), $3 a dry run (counts,
-- deletes nothing).
WITH doomed AS (
  SELECT ctid FROM realtime.events WHERE at < $1 LIMIT $2
), gone AS (
  DELETE FROM realtime.events WHERE ctid = ANY(ARRAY(SELECT ctid FROM doomed)) AND NOT $3::boolean
)
SELECT count(*)::int AS rows FROM doomed
