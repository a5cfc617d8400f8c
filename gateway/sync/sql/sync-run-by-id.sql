SELECT id, kind, resources, since, status, counts, error, started_at, finished_at FROM {schema}.sync_runs WHERE id = $1
