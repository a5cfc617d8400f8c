-- A batch of the default partition past retention: processed events received before $1, the
-- others (failed, never applied) before $2; NULL keeps them. $3 rows at most (NULL: all), $4 a
-- dry run (counts, deletes nothing). The default partition holds the unsettled events moved out
-- of dropped partitions, and any delivery that came when no partition covered its time.
WITH doomed AS (
  SELECT ctid FROM "{schema}".events_default
  WHERE (status = 'processed' AND received_at < $1) OR (status <> 'processed' AND received_at < $2)
  LIMIT $3
), gone AS (
  DELETE FROM "{schema}".events_default WHERE ctid = ANY(ARRAY(SELECT ctid FROM doomed)) AND NOT $4::boolean
)
SELECT count(*)::int AS rows FROM doomed
