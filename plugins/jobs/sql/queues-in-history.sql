SELECT DISTINCT queue FROM jobs.jobs;
