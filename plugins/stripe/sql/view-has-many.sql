-- The rows of {table} whose {column} holds the parent row's id, newest first, at most {limit},
-- deleted ones left out, as a JSON array; an index on {column} serves it. {object} is the JSON
-- object of the selected fields (plan.ts).
(SELECT coalesce(json_agg({object} ORDER BY {alias}.created DESC, {alias}.id DESC), '[]')
FROM (
  SELECT * FROM stripe."{table}" AS {alias}
  WHERE {alias}."{column}" = {parent}.id AND NOT {alias}.is_deleted
  ORDER BY {alias}.created DESC, {alias}.id DESC
  LIMIT {limit}
) AS {alias})
