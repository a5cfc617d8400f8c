-- Newest version of every variant (of template $1, or of all when null).
SELECT DISTINCT ON (name, channel, locale) id, name, channel, locale, version, subject, body, html, created_by, created_at
FROM notifications.templates
WHERE $1::text IS NULL OR name = $1
ORDER BY name, channel, locale, version DESC
