-- Files to process again: the failed ones ($1 = 'failed'), those never scanned or waiting for the
-- scanner ($1 = 'unscanned'), or every one past the upload ($1 = 'all'); moved to processing.
UPDATE files.files AS f SET status = 'processing', error = NULL, updated_at = now()
WHERE f.status <> 'uploading' AND f.status <> 'infected'
  AND CASE $1
    WHEN 'failed' THEN f.status = 'failed'
    WHEN 'unscanned' THEN f.status = 'pending_scan' OR NOT EXISTS (SELECT 1 FROM files.scans AS s WHERE s.file_id = f.id)
    ELSE true
  END
RETURNING f.id, f.updated_at
