-- Locks the events of a batch that still need processing; events another process is already
-- working on are skipped, processed ones are not returned.
SELECT id, type, CASE WHEN $2::boolean THEN payload END AS payload
FROM "{schema}".events
WHERE id = ANY($1::text[]) AND status = 'received'
ORDER BY received_at, id
FOR UPDATE SKIP LOCKED
