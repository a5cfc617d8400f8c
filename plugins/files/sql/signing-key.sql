-- The local storage signing key: made by the first instance ($1), read by every other.
WITH made AS (
  INSERT INTO files.signing_key (secret) VALUES ($1) ON CONFLICT (id) DO NOTHING RETURNING secret
)
SELECT secret FROM made UNION ALL SELECT secret FROM files.signing_key LIMIT 1
