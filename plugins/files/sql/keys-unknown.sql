-- Of storage keys $1, those that no file or derivative row names.
SELECT k AS key FROM unnest($1::text[]) AS k
WHERE NOT EXISTS (SELECT 1 FROM files.files WHERE key = k)
  AND NOT EXISTS (SELECT 1 FROM files.thumbnails WHERE key = k)
