-- Serializes migration runs across processes: two gateways starting together take turns.
SELECT pg_advisory_lock(7283105342);
