-- The floor handler's batch (bench/peers/github-log-floor.ts, FLOOR_LOG=jsonb; also priced by
-- bench/github-webhooks-sql.ts): the deliveries into the log, and each new delivery's object
-- upserted newer-wins. $1 is a JSON array of {id, event, payload}; $2 maps an event to the key of
-- its object in the payload.
WITH input AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS i(id text, event text, payload jsonb)),
logged AS (
  INSERT INTO floor_log (id, type, payload) SELECT id, event, payload FROM input
  ON CONFLICT DO NOTHING RETURNING id
)
INSERT INTO github_objects AS o (event, id, data, updated_at, delivery)
SELECT DISTINCT ON (i.event, (i.payload -> k.key ->> 'id')::bigint) i.event, (i.payload -> k.key ->> 'id')::bigint,
  i.payload -> k.key, (i.payload -> k.key ->> 'updated_at')::timestamptz, i.id
FROM input AS i JOIN logged USING (id)
CROSS JOIN LATERAL (SELECT ($2::jsonb ->> i.event) AS key) AS k
ORDER BY 1, 2, 4 DESC
ON CONFLICT (event, id) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at, delivery = excluded.delivery
WHERE o.updated_at <= excluded.updated_at
