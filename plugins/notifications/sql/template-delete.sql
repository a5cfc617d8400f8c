-- Every version of every variant of template $1.
DELETE FROM notifications.templates WHERE name = $1
