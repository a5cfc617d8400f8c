-- The rows of {table} whose {column} holds the parent row's id, newest first, at most {limit},
-- deleted ones left out, as a JSON array of {values} arrays (plan.ts); an index on {column}
-- serves it. array() keeps the subquery's order without sorting again, where json_agg would not
-- promise it.
array_to_json(array(
  SELECT json_build_array({values})
  FROM stripe."{table}" AS {alias}
  WHERE {alias}."{column}" = {parent}.id AND NOT {alias}.is_deleted
  ORDER BY {alias}.created DESC, {alias}.id DESC
  LIMIT {limit}
))
