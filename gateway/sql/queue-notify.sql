-- Job lifecycle events of the Postgres queue, batched into one JSON array per notification.
SELECT pg_notify('plugboard_queue_events', $1);
