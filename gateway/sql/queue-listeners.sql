-- Whether any process listens for queue events in this database (its listening connection
-- carries the name $1).
SELECT EXISTS (
  SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1
) AS present
