SELECT count(*)::int AS live FROM {schema}.{table} WHERE NOT is_deleted
