-- Verified webhook deliveries into a plugin's durable log, many requests in one statement.
-- $1 is a JSON array of {id, type, payload}; a duplicate id inserts nothing and is not returned.
INSERT INTO "{schema}".events (id, type, payload)
SELECT e.id, e.type, e.payload
FROM jsonb_to_recordset($1::jsonb) AS e(id text, type text, payload jsonb)
ON CONFLICT (id) DO NOTHING
RETURNING id
