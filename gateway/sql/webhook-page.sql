-- One page of a plugin's webhook log, newest first; filters are optional (status, type pattern,
-- received from $6 and before $7: the weekly partitions outside that time are not read).
SELECT id, type, status, payload, received_at, processed_at, attempts, last_error,
       received_at::text AS cursor_at -- microseconds, which a JS Date would lose
FROM "{schema}".events
WHERE ($1::text IS NULL OR status = $1)
  AND ($2::text IS NULL OR type LIKE $2)
  AND ($3::timestamptz IS NULL OR (received_at, id) < ($3, $4::text))
  AND ($6::timestamptz IS NULL OR received_at >= $6)
  AND ($7::timestamptz IS NULL OR received_at < $7)
ORDER BY received_at DESC, id DESC
LIMIT $5
