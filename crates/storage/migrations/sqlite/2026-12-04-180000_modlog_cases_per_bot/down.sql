-- Back to case numbers per guild: entries are renumbered 1, 2, 3, ... per guild in the order they
-- were recorded (two bots may hold the same number now, which the old key cannot).
CREATE TABLE modlog_entries_per_guild (
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
INSERT INTO modlog_entries_per_guild
    (guild_id, case_number, view_id, action, moderator_id, moderator_name, reason, duration, created_at)
SELECT guild_id, ROW_NUMBER() OVER (PARTITION BY guild_id ORDER BY created_at, bot_id, case_number), view_id, action,
       moderator_id, moderator_name, reason, duration, created_at
FROM modlog_entries;
DROP TABLE modlog_entries;
ALTER TABLE modlog_entries_per_guild RENAME TO modlog_entries;
CREATE INDEX modlog_entries_by_view ON modlog_entries (view_id, case_number);

ALTER TABLE modlog_subjects DROP COLUMN entry_count;

DROP TABLE modlog_cases;
CREATE TABLE modlog_cases (
    guild_id BIGINT NOT NULL PRIMARY KEY,
    last_case BIGINT NOT NULL
);
INSERT INTO modlog_cases (guild_id, last_case) SELECT guild_id, MAX(case_number) FROM modlog_entries GROUP BY guild_id;
