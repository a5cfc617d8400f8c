-- $2: the endpoint as given and in canonical form (how registerPush stores it).
DELETE FROM notifications.push_subscriptions WHERE user_id = $1 AND endpoint = ANY($2::text[])
