-- A page of files, newest first, after the cursor ($3 created_at, $4 id), at most $2: user $1's
-- (every user's when $1 is null), with status $5 and detected or declared type starting with $6
-- when given; each with its derivatives, metadata and newest scan (one statement a page).
SELECT f.*, f.created_at::text AS cursor_at
FROM files.file_views AS f
WHERE ($1::text IS NULL OR f.owner_id = $1)
  AND ($5::text IS NULL OR f.status = $5)
  AND ($6::text IS NULL OR starts_with(coalesce(f.detected_type, f.declared_type), $6))
  AND ($3::timestamptz IS NULL OR (f.created_at, f.id) < ($3::timestamptz, $4::uuid))
ORDER BY f.created_at DESC, f.id DESC
LIMIT $2
