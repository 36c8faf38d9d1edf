-- Started web verification flows on SQLite. Keep in step with ../../postgres/2026-12-05-150000_signin_flows.
-- Only hashes of the OAuth state and of the browser's nonce are kept; a flow is deleted when its state
-- is used (single use), and expired ones are purged. stage is 'discord_link', 'discord_unlink' or
-- 'roblox' (then discord_id and discord_name say who signed in to Discord).
CREATE TABLE signin_flows (
    state_hash TEXT NOT NULL PRIMARY KEY,
    browser_hash TEXT NOT NULL,
    stage TEXT NOT NULL,
    discord_id BIGINT,
    discord_name TEXT,
    verifier TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX signin_flows_expiry ON signin_flows (expires_at);
