DROP TABLE booster_roles;
