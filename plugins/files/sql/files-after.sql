-- A page of files whose object must exist (id after $1, at most $2), for checks against the
-- storage. A refused upload's object was deleted on purpose; an upload's is not there yet.
SELECT id, key, status FROM files.files
WHERE status IN ('processing', 'pending_scan', 'ready', 'infected') AND ($1::uuid IS NULL OR id > $1)
ORDER BY id
LIMIT $2
