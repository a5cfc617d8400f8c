-- webhook-insert.sql for a batch applied in the same statement: the events are logged as
-- processed, and the plugin's upserts ({applied}: `, name AS (INSERT …)` parts) read `input`
-- (id, type, payload) and `fresh` (the ids this insert kept; a duplicate applies nothing).
-- $1 is a JSON array of {id, type, payload} with no id twice.
WITH input AS (
  SELECT * FROM jsonb_to_recordset($1::jsonb) AS e(id text, type text, payload jsonb)
), fresh AS (
  INSERT INTO "{schema}".events (id, type, payload, status, processed_at, attempts)
  SELECT e.id, e.type, e.payload, 'processed', now(), 1
  FROM input AS e
  WHERE NOT EXISTS (SELECT FROM "{schema}".events AS stored WHERE stored.id = e.id)
  ON CONFLICT DO NOTHING
  RETURNING id
){applied}
SELECT id FROM fresh
