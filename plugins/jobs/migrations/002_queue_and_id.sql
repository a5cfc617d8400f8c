-- A job is named by its queue and id together: BullMQ numbers each queue's jobs from 1, so two
-- queues hold jobs with the same id, and history keyed by the id alone merged them. A numbered id
-- is also handed out again after a Redis flush: job_created_at (when the queue created the job,
-- set for such ids only) tells those jobs apart, in the results and failures too.
ALTER TABLE jobs DROP CONSTRAINT jobs_pkey;
ALTER TABLE jobs ADD PRIMARY KEY (queue, id);
ALTER TABLE jobs ADD COLUMN job_created_at timestamptz;

ALTER TABLE job_results DROP CONSTRAINT job_results_pkey;
ALTER TABLE job_results ADD PRIMARY KEY (queue, job_id);
ALTER TABLE job_results ADD COLUMN job_created_at timestamptz;

ALTER TABLE job_failures ADD COLUMN job_created_at timestamptz;
DROP INDEX job_failures_job;
CREATE INDEX job_failures_job ON job_failures (queue, job_id, attempt);
