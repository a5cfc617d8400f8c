-- Serialises the decision to start a run of one plugin ($1: its schema) across processes, until
-- the transaction ends: the run row is committed before another process may look for it.
SELECT pg_advisory_xact_lock(hashtextextended('plugboard.sync-start:' || $1, 0))
