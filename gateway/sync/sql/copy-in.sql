-- New rows of one resource table, streamed in COPY's text format (generated columns and
-- synced_at fill themselves).
COPY {schema}.{table} (id, data, is_deleted, {version}, last_event_id) FROM STDIN
