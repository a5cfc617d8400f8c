-- Taken by the session that runs a plugin's sync ($1: its schema) and held until the run ends; a
-- process that dies releases it with its connection, so a crashed run never blocks the next.
SELECT pg_try_advisory_lock(hashtextextended('plugboard.sync:' || $1, 0)) AS locked
