-- One row per job from a batch of folded lifecycle events ($1: JSON array). Events from several
-- processes arrive in any order: facts known once (type, payload, who asked) are kept, and the
-- state moves only to a newer event's. A job is its (queue, id) and, for a reused number, its
-- job_created_at: late events of an earlier job under the number change nothing.
INSERT INTO jobs.jobs AS j (id, queue, job_created_at, type, state, payload, options, attempts_made, max_attempts, progress, last_error, requested_by, created_at, started_at, finished_at, updated_at)
SELECT id, queue, job_created_at, COALESCE(type, 'unknown'), state, payload, options, attempts_made, max_attempts, progress, last_error, requested_by, created_at, started_at, finished_at, updated_at
FROM jsonb_to_recordset($1::jsonb) AS r(
  id text, queue text, job_created_at timestamptz, type text, state text, payload jsonb, options jsonb, attempts_made integer, max_attempts integer,
  progress jsonb, last_error text, requested_by text, created_at timestamptz, started_at timestamptz, finished_at timestamptz, updated_at timestamptz
)
ON CONFLICT (queue, id) DO UPDATE SET
  job_created_at = COALESCE(j.job_created_at, EXCLUDED.job_created_at),
  type          = CASE WHEN j.type = 'unknown' THEN EXCLUDED.type ELSE j.type END,
  payload       = COALESCE(j.payload, EXCLUDED.payload),
  options       = COALESCE(j.options, EXCLUDED.options),
  requested_by  = COALESCE(j.requested_by, EXCLUDED.requested_by),
  max_attempts  = COALESCE(EXCLUDED.max_attempts, j.max_attempts),
  created_at    = LEAST(j.created_at, EXCLUDED.created_at),
  started_at    = COALESCE(j.started_at, EXCLUDED.started_at),
  attempts_made = GREATEST(j.attempts_made, EXCLUDED.attempts_made),
  last_error    = COALESCE(EXCLUDED.last_error, j.last_error),
  state         = CASE WHEN EXCLUDED.updated_at >= j.updated_at THEN EXCLUDED.state ELSE j.state END,
  progress      = CASE WHEN EXCLUDED.updated_at >= j.updated_at THEN COALESCE(EXCLUDED.progress, j.progress) ELSE j.progress END,
  finished_at   = CASE WHEN EXCLUDED.updated_at >= j.updated_at THEN EXCLUDED.finished_at ELSE j.finished_at END,
  updated_at    = GREATEST(j.updated_at, EXCLUDED.updated_at)
WHERE NOT COALESCE(EXCLUDED.job_created_at < j.job_created_at, false);
