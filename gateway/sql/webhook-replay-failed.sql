-- Up to $1 failed events (the dead letter), oldest first, back to the start of processing.
UPDATE "{schema}".events
SET status = 'received', attempts = 0, last_error = NULL, processed_at = NULL
WHERE id IN (
  SELECT id FROM "{schema}".events WHERE status = 'failed' ORDER BY received_at LIMIT $1
)
RETURNING id
