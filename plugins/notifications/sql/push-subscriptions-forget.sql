-- Subscriptions the push service says are gone (404/410).
DELETE FROM notifications.push_subscriptions WHERE id = ANY($1::uuid[])
