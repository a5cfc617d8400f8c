-- Verified webhook deliveries into a plugin's durable log, many requests in one statement.
-- $1 is a JSON array of {id, type, payload}; a duplicate id inserts nothing and is not returned.
-- The log is partitioned by week of received_at and Postgres cannot hold an id unique across
-- partitions: each partition's unique index on id stops a concurrent duplicate (both land in
-- the week's partition), and NOT EXISTS a redelivery of an event an earlier week holds.
INSERT INTO "{schema}".events (id, type, payload)
SELECT e.id, e.type, e.payload
FROM jsonb_to_recordset($1::jsonb) AS e(id text, type text, payload jsonb)
WHERE NOT EXISTS (SELECT FROM "{schema}".events AS stored WHERE stored.id = e.id)
ON CONFLICT DO NOTHING
RETURNING id
