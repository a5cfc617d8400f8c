-- One failed attempt; the last of $3 attempts marks the event failed for good (the dead letter).
UPDATE "{schema}".events
SET attempts = attempts + 1, last_error = $2, status = CASE WHEN attempts + 1 >= $3 THEN 'failed' ELSE status END
WHERE id = $1 AND status = 'received'
RETURNING attempts
