-- Verified webhook deliveries into a plugin's durable log, many requests in one statement.
-- $1 is a JSON array of {id, type, payload}; a duplicate id inserts nothing and is not returned.
-- With $2 the rows go in already processed: the caller applies them in the same transaction.
INSERT INTO "{schema}".events (id, type, payload, status, processed_at, attempts)
SELECT e.id, e.type, e.payload,
       CASE WHEN $2::boolean THEN 'processed' ELSE 'received' END,
       CASE WHEN $2::boolean THEN now() END,
       CASE WHEN $2::boolean THEN 1 ELSE 0 END
FROM jsonb_to_recordset($1::jsonb) AS e(id text, type text, payload jsonb)
ON CONFLICT (id) DO NOTHING
RETURNING id
