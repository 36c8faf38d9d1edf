-- Restore jobs on PostgreSQL. Keep in step with ../../sqlite/2026-12-08-090000_restore_jobs.
-- A job is held by one runner (holder) until lease_until; any runner claims a running job whose lease
-- ran out. token_sealed is the bot token sealed under the server's secret key (NULL once finished);
-- progress is the domain's own encoding of the step, counts and report so far (Job::encode_progress).
-- restore_job_placed holds the target id of
-- every object the job created, saved with the step that created it, deleted when the job finishes.
CREATE TABLE restore_jobs (
    job_id TEXT PRIMARY KEY NOT NULL,
    view_id TEXT NOT NULL,
    origin_server BIGINT NOT NULL,
    target_server BIGINT NOT NULL,
    version INTEGER NOT NULL,
    mode TEXT NOT NULL,
    status TEXT NOT NULL,
    progress TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    finished_at BIGINT,
    snapshot INTEGER,
    token_sealed TEXT,
    holder TEXT NOT NULL,
    lease_until BIGINT NOT NULL
);
CREATE INDEX restore_jobs_by_lease ON restore_jobs (status, lease_until);
CREATE INDEX restore_jobs_by_target ON restore_jobs (target_server, status);
CREATE TABLE restore_job_placed (
    job_id TEXT NOT NULL,
    backup_id BIGINT NOT NULL,
    target_id BIGINT NOT NULL,
    PRIMARY KEY (job_id, backup_id)
);
