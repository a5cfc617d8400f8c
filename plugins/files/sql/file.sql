-- File $1 with its derivatives, metadata and newest scan.
SELECT f.*,
  coalesce((SELECT json_agg(t ORDER BY t.kind, t.width, t.format) FROM files.thumbnails AS t WHERE t.file_id = f.id), '[]') AS derivatives,
  (SELECT to_json(m) FROM files.metadata AS m WHERE m.file_id = f.id) AS meta,
  (SELECT to_json(s) FROM files.scans AS s WHERE s.file_id = f.id ORDER BY s.scanned_at DESC, s.id DESC LIMIT 1) AS scan
FROM files.files AS f
WHERE f.id = $1
