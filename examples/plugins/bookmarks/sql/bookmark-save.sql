-- Saves a bookmark from a `bookmark.saved` event ($1 id, $2 url, $3 title, $4 when it was saved).
-- Events may arrive in any order: one older than the stored state changes nothing.
INSERT INTO bookmarks.bookmarks AS b (id, url, title, saved_at)
VALUES ($1, $2, $3, $4)
ON CONFLICT (id) DO UPDATE SET url = EXCLUDED.url, title = EXCLUDED.title, saved_at = EXCLUDED.saved_at
WHERE b.saved_at <= EXCLUDED.saved_at
