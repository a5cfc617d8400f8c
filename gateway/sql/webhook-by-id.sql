SELECT id, type, status, payload, received_at, processed_at, attempts, last_error
FROM "{schema}".events
WHERE id = $1
