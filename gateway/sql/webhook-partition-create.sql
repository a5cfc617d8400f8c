-- A week's partition of a plugin's webhook log, made apart and attached: ATTACH takes only a
-- SHARE UPDATE EXCLUSIVE lock on the log (inserts and reads go on), and the default partition is
-- checked for rows of the new range. The event id is unique within each partition (Postgres
-- cannot index it across partitions); webhook-insert checks the other partitions.
SET LOCAL lock_timeout = '2s';
CREATE TABLE "{schema}"."{partition}" (LIKE "{schema}".events
  INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMPRESSION INCLUDING GENERATED);
CREATE UNIQUE INDEX "{partition}_id" ON "{schema}"."{partition}" (id);
ALTER TABLE "{schema}".events ATTACH PARTITION "{schema}"."{partition}" FOR VALUES FROM ('{from}') TO ('{to}')
