-- The next two pull requests of a repository after number $2 (changed since $3, when given):
-- reviews are listed pull request by pull request, and the second says whether more follow.
SELECT number
FROM github.pull_requests
WHERE repository = $1 AND NOT is_deleted AND number > $2 AND ($3::timestamptz IS NULL OR updated_at >= $3)
ORDER BY number
LIMIT 2
