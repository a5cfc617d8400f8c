-- Jobs finished in the last hour, per minute (the console's throughput chart), without reading the
-- whole history.
CREATE INDEX jobs_finished ON jobs (finished_at) WHERE finished_at IS NOT NULL;
