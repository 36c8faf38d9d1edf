DROP TABLE backup_versions;
DROP TABLE backups;
