-- Live rows whose ids the provider did not list ($1: every id it listed).
SELECT id::text AS id FROM {schema}.{table} WHERE NOT is_deleted AND NOT (id = ANY($1::{id_type}[])) ORDER BY id
