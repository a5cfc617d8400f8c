-- How far incremental syncs of resource $1 have caught up ($2: the provider-side time the next
-- one continues from; it never moves back).
INSERT INTO {schema}.sync_state (resource, status, last_event_at, last_sync_at, updated_at)
VALUES ($1, 'completed', $2, now(), now())
ON CONFLICT (resource) DO UPDATE
SET status = 'completed', last_event_at = greatest({schema}.sync_state.last_event_at, excluded.last_event_at), last_sync_at = now(), updated_at = now()
