-- The row of {table} that the parent row points at ({join}), as a JSON array of {values}
-- (planner.ts), null when it is not synced; deleted rows included (an archived price still
-- describes the item that points at it), a live one preferred when the join matches several.
(SELECT json_build_array({values}) FROM {schema}.{table} AS {alias} WHERE {join} ORDER BY {alias}.is_deleted LIMIT 1)
