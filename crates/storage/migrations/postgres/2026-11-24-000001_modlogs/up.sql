-- Moderation logs on PostgreSQL. Keep in step with ../../sqlite/2026-11-24-000001_modlogs.
-- Discord snowflakes are stored as BIGINT (they stay below 2^63), instants as BIGINT milliseconds.
--
-- A subject is a user in a guild as one bot records them; its view id (32 random hex characters) is
-- permanent and names its history page. Its profile (names, avatar, icon) is refreshed on each add.
CREATE TABLE modlog_subjects (
    view_id TEXT NOT NULL PRIMARY KEY,
    bot_id BIGINT NOT NULL,
    guild_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL,
    user_name TEXT NOT NULL,
    user_avatar TEXT NULL,
    guild_name TEXT NOT NULL,
    guild_icon TEXT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT modlog_subjects_one_per_subject UNIQUE (bot_id, guild_id, user_id)
);

-- The last case number of each guild. An add increments it with one upsert (... RETURNING) in the
-- transaction that inserts the entry, so the guild's row stays locked until that commit: numbers go
-- 1, 2, 3, ... with no gap (a rolled-back add rolls its number back) and no duplicate.
CREATE TABLE modlog_cases (
    guild_id BIGINT NOT NULL PRIMARY KEY,
    last_case BIGINT NOT NULL
);

-- The entries, numbered per guild; the primary key refuses a duplicate number even if the counter
-- were bypassed.
CREATE TABLE modlog_entries (
    guild_id BIGINT NOT NULL,
    case_number BIGINT NOT NULL,
    view_id TEXT NOT NULL REFERENCES modlog_subjects (view_id),
    action TEXT NOT NULL CHECK (action IN ('Warn', 'Timeout', 'Ban', 'Kick', 'Unban')),
    moderator_id BIGINT NOT NULL,
    moderator_name TEXT NOT NULL,
    reason TEXT NULL,
    duration TEXT NULL,
    created_at BIGINT NOT NULL,
    CONSTRAINT modlog_entries_pkey PRIMARY KEY (guild_id, case_number)
);

-- A history page lists one subject's entries in case order.
CREATE INDEX modlog_entries_by_view ON modlog_entries (view_id, case_number);
