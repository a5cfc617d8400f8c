SELECT plugin, version, name, checksum, applied_at
FROM plugboard.schema_migrations
WHERE plugin = ANY($1::text[])
ORDER BY plugin, version;
