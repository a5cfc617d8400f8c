-- The row of {table} whose id the parent row's {column} holds, as a JSON object (null when it is
-- not synced); deleted rows included: an archived price still describes the item that points at
-- it. {object} is the JSON object of the selected fields (plan.ts).
(SELECT {object} FROM stripe."{table}" AS {alias} WHERE {alias}.id = {parent}."{column}")
