-- A scan of file $1: engine $2, signature version $3, result $4, signature $5.
INSERT INTO files.scans (file_id, engine, signature_version, result, signature_name) VALUES ($1, $2, $3, $4, $5)
