-- File $1 processed: ready (or $2), its hash $3, its key $4 (moved when quarantined), its error $5.
UPDATE files.files
SET status = $2, sha256 = coalesce($3, sha256), key = $4, error = $5, processed_at = now(), updated_at = now()
WHERE id = $1
RETURNING *
