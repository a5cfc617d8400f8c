-- First-page ETags of one resource's lists ($2: JSON array of {repository, etag}), once its sync completed.
INSERT INTO github.list_etags AS l (resource, repository, etag, updated_at)
SELECT $1, e.repository, e.etag, now()
FROM jsonb_to_recordset($2::jsonb) AS e(repository text, etag text)
ON CONFLICT (resource, repository) DO UPDATE SET etag = excluded.etag, updated_at = excluded.updated_at
