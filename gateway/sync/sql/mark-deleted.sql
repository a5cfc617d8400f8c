-- Rows of objects the provider says are gone.
UPDATE {schema}.{table} SET is_deleted = true, synced_at = now() WHERE id = ANY($1::{id_type}[]) AND NOT is_deleted
