-- A partition past retention, taken out of the log: the events still unsettled in it (failed,
-- or never applied) and younger than {keep_after} move to the default partition, read through
-- the partial indexes on status, and the week goes to schema plugboard under a name of its own,
-- to be dropped there once this transaction has let go of the log (webhook-partition-purge): the
-- log's lock is held for the catalog changes and those few rows only, not while a week's files
-- are deleted. lock_timeout bounds the wait for the lock, and with it how long inserts queue.
SET LOCAL lock_timeout = '2s';
ALTER TABLE "{schema}".events DETACH PARTITION "{schema}"."{partition}";
INSERT INTO "{schema}".events (id, type, payload, status, received_at, processed_at, attempts, last_error)
SELECT id, type, payload, status, received_at, processed_at, attempts, last_error
FROM "{schema}"."{partition}" WHERE status = 'failed' AND received_at >= '{keep_after}'
UNION ALL
SELECT id, type, payload, status, received_at, processed_at, attempts, last_error
FROM "{schema}"."{partition}" WHERE status = 'received' AND received_at >= '{keep_after}';
-- Its indexes take the plugin's name too, so that no two plugins' weeks clash in plugboard.
DO $$
DECLARE index_name text;
BEGIN
  FOR index_name IN SELECT c.relname FROM pg_index AS i JOIN pg_class AS c ON c.oid = i.indexrelid
      WHERE i.indrelid = '"{schema}"."{partition}"'::regclass LOOP
    EXECUTE format('ALTER INDEX %I.%I RENAME TO %I', '{schema}', index_name, '{schema}_' || index_name);
  END LOOP;
END
$$;
ALTER TABLE "{schema}"."{partition}" RENAME TO "{detached}";
ALTER TABLE "{schema}"."{detached}" SET SCHEMA plugboard
