SELECT pg_advisory_unlock(hashtextextended('plugboard.sync:' || $1, 0))
