-- The newest event time incremental syncs continue from.
INSERT INTO stripe.sync_state (resource, status, last_event_at, last_sync_at, updated_at)
VALUES ('events', 'completed', $1, now(), now())
ON CONFLICT (resource) DO UPDATE
SET status = 'completed', last_event_at = greatest(stripe.sync_state.last_event_at, excluded.last_event_at), last_sync_at = now(), updated_at = now()
