-- Job history in Postgres: outlives Redis retention, and answers the GraphQL job queries.
-- Written in batches by plugins/jobs/history.ts from the queue port's lifecycle events.
CREATE TABLE jobs (
  id            text        PRIMARY KEY,
  queue         text        NOT NULL,
  type          text        NOT NULL,
  state         text        NOT NULL CHECK (state IN ('waiting', 'delayed', 'active', 'completed', 'failed', 'cancelled')),
  payload       jsonb,
  options       jsonb,
  attempts_made integer     NOT NULL DEFAULT 0,
  max_attempts  integer,
  progress      jsonb,
  last_error    text,
  requested_by  text,
  created_at    timestamptz NOT NULL,
  started_at    timestamptz,
  finished_at   timestamptz,
  updated_at    timestamptz NOT NULL
);
CREATE INDEX jobs_queue_state_created ON jobs (queue, state, created_at DESC, id DESC);
CREATE INDEX jobs_type_created ON jobs (type, created_at DESC, id DESC);
CREATE INDEX jobs_created ON jobs (created_at DESC, id DESC);
CREATE INDEX jobs_requested_by ON jobs (requested_by, created_at DESC) WHERE requested_by IS NOT NULL;

-- The result of each completed job (the last completion, if an admin re-ran it).
CREATE TABLE job_results (
  job_id       text        PRIMARY KEY,
  queue        text        NOT NULL,
  attempt      integer     NOT NULL,
  result       jsonb,
  completed_at timestamptz NOT NULL
);

-- Every failed attempt, retried or final.
CREATE TABLE job_failures (
  id         bigserial   PRIMARY KEY,
  job_id     text        NOT NULL,
  queue      text        NOT NULL,
  attempt    integer     NOT NULL,
  error      text        NOT NULL,
  will_retry boolean     NOT NULL,
  failed_at  timestamptz NOT NULL
);
CREATE INDEX job_failures_job ON job_failures (job_id, attempt);

-- Schedules made through GraphQL or the CLI; re-applied to the queue at start-up, so they
-- survive a Redis flush.
CREATE TABLE job_schedules (
  id         uuid        PRIMARY KEY,
  queue      text        NOT NULL,
  type       text        NOT NULL,
  cron       text        NOT NULL,
  timezone   text        NOT NULL,
  payload    jsonb,
  created_by text,
  created_at timestamptz NOT NULL DEFAULT now()
);
