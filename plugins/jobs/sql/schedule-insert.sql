INSERT INTO jobs.job_schedules (id, queue, type, cron, timezone, payload, created_by)
VALUES ($1, $2, $3, $4, $5, $6, $7)
RETURNING *;
