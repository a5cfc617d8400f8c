-- A page of bookmarks, newest first, after the cursor ($1 saved_at, $2 id; null for the first
-- page), at most $3.
SELECT id, url, title, saved_at, saved_at::text AS cursor_at
FROM bookmarks.bookmarks
WHERE $1::timestamptz IS NULL OR (saved_at, id) < ($1::timestamptz, $2::text)
ORDER BY saved_at DESC, id DESC
LIMIT $3
