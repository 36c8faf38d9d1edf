DROP TABLE rank_binds;
