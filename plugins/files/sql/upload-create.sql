-- A new upload of user $1 ($2 storage, $3 bucket, $4 key, $5 name, $6 declared type, $7 size),
-- unless the user already has $8 uploads started and not completed (then no row).
INSERT INTO files.files (id, owner_id, storage, bucket, key, name, declared_type, size)
SELECT $9::uuid, $1, $2, $3, $4, $5, $6, $7
WHERE (SELECT count(*) FROM files.files WHERE owner_id = $1 AND status = 'uploading') < $8
RETURNING *
