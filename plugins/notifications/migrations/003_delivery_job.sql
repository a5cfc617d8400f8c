-- The queue job that carries each notification, by its idempotency key: the notification's own id
-- for a `deliver` job, `batch:<send>:<n>` for a `deliver-batch` job. NULL on the rows of a
-- send-email job, which delivers them itself (and runs again if its worker dies). A process
-- that dies between storing rows and enqueueing their jobs leaves them `queued` with no job: the
-- sweep finds them here and enqueues the job again under the same key (so never twice).
ALTER TABLE notifications ADD COLUMN delivery_job text;
CREATE INDEX notifications_unsent ON notifications (created_at, delivery_job)
  WHERE status = 'queued' AND attempts = 0 AND delivery_job IS NOT NULL;
