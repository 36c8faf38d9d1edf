-- Member records on SQLite. Keep in step with ../../postgres/2026-11-23-000000_member_records.
CREATE TABLE api_keys (
    id INTEGER PRIMARY KEY,
    server_id BIGINT NOT NULL,
    name TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    read_only INTEGER NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX api_keys_server ON api_keys (server_id, id);

CREATE TABLE xp_balances (
    server_id BIGINT NOT NULL,
    roblox_id BIGINT NOT NULL,
    xp BIGINT NOT NULL DEFAULT 0,
    -- How much the most recent change lowered the balance (negative when it rose): written by the
    -- same UPDATE that changes xp, from the old value, and returned with it.
    last_decrease BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (server_id, roblox_id)
);
CREATE INDEX xp_balances_leaderboard ON xp_balances (server_id, xp DESC, roblox_id);

CREATE TABLE xp_ledger (
    id INTEGER PRIMARY KEY,
    server_id BIGINT NOT NULL,
    roblox_id BIGINT NOT NULL,
    operation TEXT NOT NULL,
    amount BIGINT NOT NULL,
    delta BIGINT NOT NULL,
    balance BIGINT NOT NULL,
    reference TEXT,
    reason TEXT,
    key_id BIGINT,
    key_name TEXT,
    at BIGINT NOT NULL,
    UNIQUE (server_id, reference)
);
CREATE INDEX xp_ledger_member ON xp_ledger (server_id, roblox_id, id);

CREATE TABLE ep_entries (
    id INTEGER PRIMARY KEY,
    server_id BIGINT NOT NULL,
    roblox_id BIGINT NOT NULL,
    company TEXT NOT NULL,
    amount BIGINT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX ep_entries_member ON ep_entries (server_id, roblox_id, at);

CREATE TABLE ep_policies (
    server_id BIGINT PRIMARY KEY,
    period_days INTEGER NOT NULL,
    period_start BIGINT NOT NULL,
    quota_main BIGINT NOT NULL,
    quota_sub1 BIGINT NOT NULL,
    quota_sub2 BIGINT NOT NULL,
    quota_sub3 BIGINT NOT NULL,
    max_warning_level INTEGER NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE loas (
    id INTEGER PRIMARY KEY,
    server_id BIGINT NOT NULL,
    roblox_id BIGINT NOT NULL,
    started_at BIGINT NOT NULL,
    ends_at BIGINT NOT NULL,
    ended_at BIGINT
);
CREATE INDEX loas_member ON loas (server_id, roblox_id, id);
-- At most one LOA per member is open (not yet closed); starting one first closes an expired one.
CREATE UNIQUE INDEX loas_one_open ON loas (server_id, roblox_id) WHERE ended_at IS NULL;

CREATE TABLE medals (
    id INTEGER PRIMARY KEY,
    server_id BIGINT NOT NULL,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    description TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (server_id, name_key)
);

CREATE TABLE medal_awards (
    medal_id BIGINT NOT NULL REFERENCES medals (id) ON DELETE CASCADE,
    roblox_id BIGINT NOT NULL,
    awarded_at BIGINT NOT NULL,
    PRIMARY KEY (medal_id, roblox_id)
);
CREATE INDEX medal_awards_member ON medal_awards (roblox_id);

CREATE TABLE certifications (
    id INTEGER PRIMARY KEY,
    server_id BIGINT NOT NULL,
    reference TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (server_id, reference)
);

CREATE TABLE certification_awards (
    certification_id BIGINT NOT NULL REFERENCES certifications (id) ON DELETE CASCADE,
    roblox_id BIGINT NOT NULL,
    awarded_at BIGINT NOT NULL,
    PRIMARY KEY (certification_id, roblox_id)
);
CREATE INDEX certification_awards_member ON certification_awards (roblox_id);
