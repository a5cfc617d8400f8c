SELECT * FROM jobs.job_schedules ORDER BY created_at, id;
