-- Deletes files $1 (their derivative rows go with them); returns the derivatives' keys.
WITH derived AS (
  SELECT key FROM files.thumbnails WHERE file_id = ANY($1::uuid[])
), deleted AS (
  DELETE FROM files.files WHERE id = ANY($1::uuid[]) RETURNING id
)
SELECT key FROM derived
