SELECT pg_advisory_unlock(7283105342);
