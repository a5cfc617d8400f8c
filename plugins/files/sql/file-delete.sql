-- Deletes file $1 (derivatives, metadata and scans go with it); returns every storage key it had.
WITH derived AS (SELECT key FROM files.thumbnails WHERE file_id = $1)
DELETE FROM files.files AS f WHERE f.id = $1
RETURNING f.key, ARRAY(SELECT key FROM derived) AS derived_keys
