-- Moderation-log case numbers per bot and guild, and histories read a page at a time (SQLite).
-- Keep in step with ../../postgres/2026-12-04-180000_modlog_cases_per_bot.
--
-- Case numbers were per guild, shared by every bot that logs there; now each bot numbers its own
-- entries in each guild 1, 2, 3, ... . Existing entries keep their numbers, under the bot that
-- recorded them (their subject's bot): numbers were unique per guild, so they stay unique per bot and
-- guild. Each bot's counter in a guild resumes after its highest number there, so an existing history
-- keeps the gaps other bots' entries left in it.
--
-- Each entry also gets its ordinal in its subject's history (1, 2, 3, ... in case order) and each
-- subject the count of its entries, so a history is read, and mirrored to object storage, one page
-- at a time. SQLite cannot change a primary key in place: the entries table is rebuilt.
CREATE TABLE modlog_entries_per_bot (
    guild_id BIGINT NOT NULL,
    case_number BIGINT NOT NULL,
    view_id TEXT NOT NULL REFERENCES modlog_subjects (view_id),
    action TEXT NOT NULL CHECK (action IN ('Warn', 'Timeout', 'Ban', 'Kick', 'Unban')),
    moderator_id BIGINT NOT NULL,
    moderator_name TEXT NOT NULL,
    reason TEXT NULL,
    duration TEXT NULL,
    created_at BIGINT NOT NULL,
    bot_id BIGINT NOT NULL,
    ordinal BIGINT NOT NULL,
    CONSTRAINT modlog_entries_pkey PRIMARY KEY (bot_id, guild_id, case_number),
    CONSTRAINT modlog_entries_one_per_ordinal UNIQUE (view_id, ordinal)
);

INSERT INTO modlog_entries_per_bot
    (guild_id, case_number, view_id, action, moderator_id, moderator_name, reason, duration, created_at, bot_id, ordinal)
SELECT e.guild_id, e.case_number, e.view_id, e.action, e.moderator_id, e.moderator_name, e.reason, e.duration,
       e.created_at, s.bot_id, ROW_NUMBER() OVER (PARTITION BY e.view_id ORDER BY e.case_number)
FROM modlog_entries e JOIN modlog_subjects s ON s.view_id = e.view_id;

DROP TABLE modlog_entries;
ALTER TABLE modlog_entries_per_bot RENAME TO modlog_entries;

-- How many entries each subject has: an add counts up and takes the new count as its ordinal.
ALTER TABLE modlog_subjects ADD COLUMN entry_count BIGINT NOT NULL DEFAULT 0;
UPDATE modlog_subjects
SET entry_count = (SELECT COUNT(*) FROM modlog_entries e WHERE e.view_id = modlog_subjects.view_id);

-- The last case number of each bot in each guild, changed by one upsert in the add's transaction.
DROP TABLE modlog_cases;
CREATE TABLE modlog_cases (
    bot_id BIGINT NOT NULL,
    guild_id BIGINT NOT NULL,
    last_case BIGINT NOT NULL,
    CONSTRAINT modlog_cases_pkey PRIMARY KEY (bot_id, guild_id)
);
INSERT INTO modlog_cases (bot_id, guild_id, last_case)
SELECT bot_id, guild_id, MAX(case_number) FROM modlog_entries GROUP BY bot_id, guild_id;
