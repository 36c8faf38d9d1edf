-- Server backups on SQLite. Keep in step with ../../postgres/2026-12-06-120000_backups.
-- One backup per guild (server_id UNIQUE); the JSON of each version lives in object storage, and only
-- the auth key's HMAC tag is kept. Versions are deleted with their backup by the adapter, in the
-- same transaction.
CREATE TABLE backups (
    view_id TEXT PRIMARY KEY NOT NULL,
    server_id BIGINT NOT NULL UNIQUE,
    auth_tag BLOB NOT NULL,
    filename TEXT,
    created_at BIGINT NOT NULL
);
CREATE TABLE backup_versions (
    view_id TEXT NOT NULL,
    number INTEGER NOT NULL,
    kind TEXT NOT NULL,
    bytes BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (view_id, number)
);
