-- Moves file $1 from one of statuses $2 to status $3 (error $4; detected type $5 and uploaded_at
-- when given); no row when it was in none of them.
UPDATE files.files
SET status = $3, error = $4, detected_type = coalesce($5, detected_type), updated_at = now(),
    uploaded_at = CASE WHEN $5::text IS NOT NULL THEN now() ELSE uploaded_at END
WHERE id = $1 AND status = ANY($2::text[])
RETURNING *
