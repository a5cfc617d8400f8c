-- File $1 as stored.
SELECT * FROM files.files WHERE id = $1
