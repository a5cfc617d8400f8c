-- files-page.sql, oldest first.
SELECT f.*, f.created_at::text AS cursor_at
FROM files.file_views AS f
WHERE ($1::text IS NULL OR f.owner_id = $1)
  AND ($5::text IS NULL OR f.status = $5)
  AND ($6::text IS NULL OR starts_with(coalesce(f.detected_type, f.declared_type), $6))
  AND ($3::timestamptz IS NULL OR (f.created_at, f.id) > ($3::timestamptz, $4::uuid))
ORDER BY f.created_at, f.id
LIMIT $2
