-- Events acknowledged but never tried (the process died in between), oldest first.
SELECT id
FROM "{schema}".events
WHERE status = 'received' AND attempts = 0 AND received_at < now() - make_interval(secs => $1)
ORDER BY received_at, id
LIMIT $2
