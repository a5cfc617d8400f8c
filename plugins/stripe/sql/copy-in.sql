-- New rows of one resource table, streamed in COPY's text format (generated columns and
-- synced_at fill themselves).
COPY stripe."{table}" (id, data, is_deleted, stripe_at, last_event_id) FROM STDIN
