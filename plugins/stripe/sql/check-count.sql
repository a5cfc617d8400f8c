SELECT count(*)::int AS live FROM stripe."{table}" WHERE NOT is_deleted
