-- One row of a resource table by id, deleted or not, with {columns} planned from the selection
-- (plan.ts).
SELECT {columns}
FROM stripe."{table}" AS t
WHERE t.id = $1
