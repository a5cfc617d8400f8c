-- A batch of authorization requests that expired before $1 (used or not: neither can complete
-- any more): $2 rows at most (NULL: all), $3 a dry run (counts, deletes nothing).
WITH doomed AS (
  SELECT ctid FROM idme.authorization_requests WHERE expires_at < $1 LIMIT $2
), gone AS (
  DELETE FROM idme.authorization_requests WHERE ctid = ANY(ARRAY(SELECT ctid FROM doomed)) AND NOT $3::boolean
)
SELECT count(*)::int AS rows FROM doomed
