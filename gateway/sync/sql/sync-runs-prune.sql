-- A batch of finished sync runs started before $1: $2 rows at most (NULL: all), $3 a dry run
-- (counts, deletes nothing). Running ones stay whatever their age.
WITH doomed AS (
  SELECT ctid FROM {schema}.sync_runs WHERE status <> 'running' AND started_at < $1 LIMIT $2
), gone AS (
  DELETE FROM {schema}.sync_runs WHERE ctid = ANY(ARRAY(SELECT ctid FROM doomed)) AND NOT $3::boolean
)
SELECT count(*)::int AS rows FROM doomed
