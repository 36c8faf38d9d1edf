-- Moderation-log case numbers per bot and guild, and histories read a page at a time (PostgreSQL).
-- Keep in step with ../../sqlite/2026-12-04-180000_modlog_cases_per_bot.
--
-- Case numbers were per guild, shared by every bot that logs there; now each bot numbers its own
-- entries in each guild 1, 2, 3, ... . Existing entries keep their numbers, under the bot that
-- recorded them (their subject's bot): numbers were unique per guild, so they stay unique per bot and
-- guild. Each bot's counter in a guild resumes after its highest number there, so an existing history
-- keeps the gaps other bots' entries left in it.
--
-- Each entry also gets its ordinal in its subject's history (1, 2, 3, ... in case order) and each
-- subject the count of its entries, so a history is read, and mirrored to object storage, one page
-- at a time.
ALTER TABLE modlog_entries ADD COLUMN bot_id BIGINT NULL;
ALTER TABLE modlog_entries ADD COLUMN ordinal BIGINT NULL;
UPDATE modlog_entries e SET bot_id = s.bot_id FROM modlog_subjects s WHERE s.view_id = e.view_id;
UPDATE modlog_entries e
SET ordinal = n.ordinal
FROM (
    SELECT guild_id, case_number, ROW_NUMBER() OVER (PARTITION BY view_id ORDER BY case_number) AS ordinal
    FROM modlog_entries
) n
WHERE n.guild_id = e.guild_id AND n.case_number = e.case_number;
ALTER TABLE modlog_entries ALTER COLUMN bot_id SET NOT NULL;
ALTER TABLE modlog_entries ALTER COLUMN ordinal SET NOT NULL;
ALTER TABLE modlog_entries DROP CONSTRAINT modlog_entries_pkey;
ALTER TABLE modlog_entries ADD CONSTRAINT modlog_entries_pkey PRIMARY KEY (bot_id, guild_id, case_number);
ALTER TABLE modlog_entries ADD CONSTRAINT modlog_entries_one_per_ordinal UNIQUE (view_id, ordinal);
DROP INDEX modlog_entries_by_view;

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
