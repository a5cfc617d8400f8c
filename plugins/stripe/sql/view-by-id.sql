-- Rows of one resource table by id, deleted ones included (a price that was archived or deleted
-- still describes the subscription item that points at it).
SELECT {columns}
FROM stripe."{table}" AS t
WHERE t.id = ANY($1::text[])
