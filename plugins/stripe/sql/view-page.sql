-- One page of a resource table for a Relay connection, deleted rows left out. The statement is
-- completed from the resource's view (views.ts), never from input: {table}; {columns}, planned
-- from the selection (plan.ts); {where}, one `AND …` per filter given and per cursor bound;
-- {order}, ASC or DESC. $1 is the row limit.
SELECT {columns}, t.created::text AS cursor_at -- microseconds, which a JS Date would lose
FROM stripe."{table}" AS t
WHERE NOT t.is_deleted {where}
ORDER BY t.created {order}, t.id {order}
LIMIT $1
