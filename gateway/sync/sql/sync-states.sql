SELECT resource, status, cursor, run_since, last_sync_at, last_event_at, objects_synced, last_error, updated_at
FROM {schema}.sync_state
ORDER BY resource
