INSERT INTO {schema}.sync_runs (id, kind, resources, since) VALUES ($1, $2, $3, $4)
