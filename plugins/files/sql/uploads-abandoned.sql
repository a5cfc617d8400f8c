-- Uploads started before $1 and never completed: deleted (unless $2, a dry run); their keys.
WITH abandoned AS (
  SELECT id, key FROM files.files WHERE status = 'uploading' AND created_at < $1 ORDER BY created_at LIMIT 10000
), deleted AS (
  DELETE FROM files.files AS f USING abandoned AS a WHERE f.id = a.id AND NOT $2 RETURNING f.key
)
SELECT key FROM abandoned
