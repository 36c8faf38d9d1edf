-- Custom booster roles on SQLite. Keep in step with ../../postgres/2026-11-24-000000_booster_roles.
-- Discord snowflakes are stored as BIGINT (they stay below 2^63). A booster has at most one custom
-- role per guild, and a role is recorded at most once per guild: both are constraints, so they hold
-- across processes and under concurrency.
CREATE TABLE booster_roles (
    guild_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL,
    role_id BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    CONSTRAINT booster_roles_one_per_user PRIMARY KEY (guild_id, user_id),
    CONSTRAINT booster_roles_one_per_role UNIQUE (guild_id, role_id)
);
