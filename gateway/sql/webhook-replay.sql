-- A failed (or any) event back to the start of processing.
UPDATE "{schema}".events
SET status = 'received', attempts = 0, last_error = NULL, processed_at = NULL
WHERE id = $1
RETURNING id
