-- One page of {table} for a Relay connection, deleted rows left out. Completed from the plugin's
-- views, never from input: {columns}, planned from the selection (planner.ts); {where}, one
-- `AND …` per filter given and per cursor bound; {order_column} and {order} (ASC or DESC).
-- $1 is the row limit.
SELECT {columns}, t.{order_column}::text AS cursor_at -- microseconds, which a JS Date would lose
FROM {schema}.{table} AS t
WHERE NOT t.is_deleted {where}
ORDER BY t.{order_column} {order}, t.id {order}
LIMIT $1
