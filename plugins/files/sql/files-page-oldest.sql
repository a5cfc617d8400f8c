-- A page of files, oldest first, after the cursor ($3 created_at, $4 id), at most $2: user $1's
-- (every user's when $1 is null), with status $5 and detected or declared type starting with $6
-- when given; each with its derivatives, metadata and newest scan (one statement a page).
SELECT f.*, f.created_at::text AS cursor_at,
  coalesce((SELECT json_agg(t ORDER BY t.kind, t.width, t.format) FROM files.thumbnails AS t WHERE t.file_id = f.id), '[]') AS derivatives,
  (SELECT to_json(m) FROM files.metadata AS m WHERE m.file_id = f.id) AS meta,
  (SELECT to_json(s) FROM files.scans AS s WHERE s.file_id = f.id ORDER BY s.scanned_at DESC, s.id DESC LIMIT 1) AS scan
FROM files.files AS f
WHERE ($1::text IS NULL OR f.owner_id = $1)
  AND ($5::text IS NULL OR f.status = $5)
  AND ($6::text IS NULL OR starts_with(coalesce(f.detected_type, f.declared_type), $6))
  AND ($3::timestamptz IS NULL OR (f.created_at, f.id) > ($3::timestamptz, $4::uuid))
ORDER BY f.created_at, f.id
LIMIT $2
