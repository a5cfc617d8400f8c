UPDATE "{schema}".events
SET status = 'processed', processed_at = now(), attempts = attempts + 1, last_error = NULL
WHERE id = ANY($1::text[])
