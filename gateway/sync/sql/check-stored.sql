-- The stored objects of the rows whose ids are in $1 (rows the provider did not list, about to be
-- looked up one by one: a provider may need what it said last time to find one, e.g. its URL).
SELECT id::text AS id, data FROM {schema}.{table} WHERE id = ANY($1::{id_type}[])
