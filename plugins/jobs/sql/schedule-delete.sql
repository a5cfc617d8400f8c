DELETE FROM jobs.job_schedules WHERE id = $1 RETURNING *;
