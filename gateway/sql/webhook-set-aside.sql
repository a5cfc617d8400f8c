-- Events inserted processed that the plugin set aside in the same transaction: back to waiting,
-- untried, as if they had only been received.
UPDATE "{schema}".events
SET status = 'received', processed_at = NULL, attempts = 0
WHERE id = ANY($1::text[])
