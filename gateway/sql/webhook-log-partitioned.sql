-- Whether a plugin's webhook log is partitioned (a plugin may keep a plain `events` table).
SELECT relkind = 'p' AS partitioned FROM pg_class WHERE oid = to_regclass('"{schema}".events')
