-- Servers an operator granted premium features (`garrison server premium grant`), read when
-- GARRISON_PREMIUM=granted. Keep in step with ../../postgres/2026-12-07-090000_premium_grants.
CREATE TABLE premium_servers (
    server_id BIGINT PRIMARY KEY NOT NULL,
    granted_at BIGINT NOT NULL
);
