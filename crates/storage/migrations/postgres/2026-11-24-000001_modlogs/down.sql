DROP TABLE modlog_entries;
DROP TABLE modlog_cases;
DROP TABLE modlog_subjects;
