-- How many bookmarks are stored.
SELECT count(*)::int AS count
FROM bookmarks.bookmarks
