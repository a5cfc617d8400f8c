INSERT INTO plugboard.schema_migrations (plugin, version, name, checksum, execution_ms)
VALUES ($1, $2, $3, $4, $5);
