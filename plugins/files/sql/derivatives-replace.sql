-- The derivatives of file $1 become the given ones ($2 kinds, $3 formats, $4 widths, $5 heights,
-- $6 sizes, $7 keys); returns the keys of those no longer listed, to delete from the storage.
WITH gone AS (
  DELETE FROM files.thumbnails WHERE file_id = $1 AND NOT (key = ANY($7::text[])) RETURNING key
), made AS (
  INSERT INTO files.thumbnails (file_id, kind, format, width, height, size, key)
  SELECT $1, * FROM unnest($2::text[], $3::text[], $4::int[], $5::int[], $6::bigint[], $7::text[])
  ON CONFLICT (file_id, kind, format, width, height) DO UPDATE SET size = excluded.size, key = excluded.key
)
SELECT key FROM gone
