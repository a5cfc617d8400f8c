-- Serializes registrations of user $1 (to the end of the transaction), so the cap holds.
SELECT pg_advisory_xact_lock(hashtextextended('notifications.push_subscriptions:' || $1, 0))
