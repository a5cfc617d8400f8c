-- The rows of {table} that point at the parent row ({join}), filtered ({where}: `AND …` per
-- filter given), newest first by {order_column}, at most {limit}, deleted ones left out, as a
-- JSON array of {values} arrays (planner.ts); an index on the join columns serves it. array()
-- keeps the subquery's order without sorting again, where json_agg would not promise it.
array_to_json(array(
  SELECT json_build_array({values})
  FROM {schema}.{table} AS {alias}
  WHERE {join} AND NOT {alias}.is_deleted {where}
  ORDER BY {alias}.{order_column} DESC, {alias}.id DESC
  LIMIT {limit}
))
