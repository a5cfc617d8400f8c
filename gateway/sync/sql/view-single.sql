-- One row of {table} by its key ({where}: `AND …` per key column), deleted or not, with
-- {columns} planned from the selection (planner.ts); a live row preferred over a deleted one
-- with the same key (a repository deleted and created again under its name).
SELECT {columns}
FROM {schema}.{table} AS t
WHERE true {where}
ORDER BY t.is_deleted, t.{order_column} DESC
LIMIT 1
