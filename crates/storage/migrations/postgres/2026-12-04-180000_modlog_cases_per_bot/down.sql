-- Back to case numbers per guild: entries are renumbered 1, 2, 3, ... per guild in the order they
-- were recorded (two bots may hold the same number now, which the old key cannot).
ALTER TABLE modlog_entries DROP CONSTRAINT modlog_entries_one_per_ordinal;
ALTER TABLE modlog_entries DROP CONSTRAINT modlog_entries_pkey;
UPDATE modlog_entries e
SET case_number = n.renumbered
FROM (
    SELECT bot_id, guild_id, case_number,
           ROW_NUMBER() OVER (PARTITION BY guild_id ORDER BY created_at, bot_id, case_number) AS renumbered
    FROM modlog_entries
) n
WHERE n.bot_id = e.bot_id AND n.guild_id = e.guild_id AND n.case_number = e.case_number;
ALTER TABLE modlog_entries ADD CONSTRAINT modlog_entries_pkey PRIMARY KEY (guild_id, case_number);
ALTER TABLE modlog_entries DROP COLUMN ordinal;
ALTER TABLE modlog_entries DROP COLUMN bot_id;
CREATE INDEX modlog_entries_by_view ON modlog_entries (view_id, case_number);

ALTER TABLE modlog_subjects DROP COLUMN entry_count;

DROP TABLE modlog_cases;
CREATE TABLE modlog_cases (
    guild_id BIGINT NOT NULL PRIMARY KEY,
    last_case BIGINT NOT NULL
);
INSERT INTO modlog_cases (guild_id, last_case) SELECT guild_id, MAX(case_number) FROM modlog_entries GROUP BY guild_id;
