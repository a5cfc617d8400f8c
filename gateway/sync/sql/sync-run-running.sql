-- The run that holds the plugin's sync lock: the newest still running (it was inserted under the lock).
SELECT id, kind, resources, since, status, counts, error, started_at, finished_at
FROM {schema}.sync_runs
WHERE status = 'running'
ORDER BY started_at DESC
LIMIT 1
