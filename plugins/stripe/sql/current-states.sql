-- The stored states of objects an event batch touches, locked until the batch commits, with
-- the previous_attributes of the event that produced each (to order events of one second).
SELECT t.id, t.data, t.is_deleted, extract(epoch FROM t.stripe_at)::double precision AS stripe_at, t.last_event_id,
       e.payload #> '{data,previous_attributes}' AS last_previous
FROM stripe."{table}" AS t
LEFT JOIN stripe.events AS e ON e.id = t.last_event_id
WHERE t.id = ANY($1::text[])
FOR UPDATE OF t
