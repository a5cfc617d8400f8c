-- The newest version of each channel variant of template $1 in locale $2 (falling back to 'en').
SELECT DISTINCT ON (channel) name, channel, locale, version, subject, body, html
FROM notifications.templates
WHERE name = $1 AND locale IN ($2, 'en')
ORDER BY channel, locale = $2 DESC, version DESC
