-- A partition past retention, dropped whole: the events still unsettled in it (failed, or never
-- applied) and younger than {keep_after} move to the default partition first, through the
-- partial indexes on status, so the log's lock is held for milliseconds (lock_timeout bounds the
-- wait for it, and with it how long inserts queue behind).
SET LOCAL lock_timeout = '2s';
ALTER TABLE "{schema}".events DETACH PARTITION "{schema}"."{partition}";
INSERT INTO "{schema}".events (id, type, payload, status, received_at, processed_at, attempts, last_error)
SELECT id, type, payload, status, received_at, processed_at, attempts, last_error
FROM "{schema}"."{partition}" WHERE status = 'failed' AND received_at >= '{keep_after}'
UNION ALL
SELECT id, type, payload, status, received_at, processed_at, attempts, last_error
FROM "{schema}"."{partition}" WHERE status = 'received' AND received_at >= '{keep_after}';
DROP TABLE "{schema}"."{partition}"
