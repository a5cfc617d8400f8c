-- The row of {table} whose id the parent row's {column} holds, as a JSON array of {values}
-- (plan.ts), null when it is not synced; deleted rows included: an archived price still
-- describes the item that points at it.
(SELECT json_build_array({values}) FROM stripe."{table}" AS {alias} WHERE {alias}.id = {parent}."{column}")
