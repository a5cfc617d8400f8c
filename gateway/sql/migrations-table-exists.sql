SELECT to_regclass('plugboard.schema_migrations') IS NOT NULL AS exists;
