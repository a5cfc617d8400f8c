UPDATE {schema}.sync_runs SET status = $2, counts = $3, error = $4, finished_at = now() WHERE id = $1
