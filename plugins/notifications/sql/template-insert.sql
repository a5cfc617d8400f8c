-- A new version of variant ($1 name, $2 channel, $3 locale): 1 when $7 (create) and none exists;
-- the next version when not $7 (update) and one exists; otherwise no row.
INSERT INTO notifications.templates (name, channel, locale, version, subject, body, html, created_by)
SELECT $1, $2, $3, coalesce(max(version), 0) + 1, $4, $5, $6, $8
FROM notifications.templates
WHERE name = $1 AND channel = $2 AND locale = $3
HAVING (count(*) = 0) = $7
RETURNING id, name, channel, locale, version, subject, body, html, created_by, created_at
