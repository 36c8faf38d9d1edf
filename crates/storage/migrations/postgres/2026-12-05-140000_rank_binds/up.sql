-- Rank binds on PostgreSQL. Keep in step with ../../sqlite/2026-12-05-140000_rank_binds.
-- One row per role of a bind: bind_index orders a server's binds, and a server's binds are replaced
-- whole (delete and insert in one transaction).
CREATE TABLE rank_binds (
    server_id BIGINT NOT NULL,
    bind_index INTEGER NOT NULL,
    min_rank INTEGER NOT NULL,
    max_rank INTEGER NOT NULL,
    role_id BIGINT NOT NULL,
    PRIMARY KEY (server_id, bind_index, role_id)
);
