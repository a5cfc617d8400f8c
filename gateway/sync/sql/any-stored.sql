-- Whether any of these ids has a row already (a batch of only new rows can be copied in).
SELECT EXISTS (SELECT 1 FROM {schema}.{table} WHERE id = ANY($1::{id_type}[])) AS any
