-- One prune of a plugin ($1) at a time, whichever process runs it; released by retention-unlock.
SELECT pg_try_advisory_lock(hashtext('plugboard.retention'), hashtext($1)) AS locked
