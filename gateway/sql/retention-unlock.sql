SELECT pg_advisory_unlock(hashtext('plugboard.retention'), hashtext($1))
