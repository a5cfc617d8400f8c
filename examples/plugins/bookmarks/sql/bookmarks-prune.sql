-- Deletes the bookmarks saved before $1; returns one row per deleted bookmark.
DELETE FROM bookmarks.bookmarks
WHERE saved_at < $1::timestamptz
RETURNING id
