DROP TABLE restore_job_placed;
DROP TABLE restore_jobs;
