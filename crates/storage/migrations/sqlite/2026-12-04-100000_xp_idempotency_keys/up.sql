-- XP references become labels; retries are made safe by Idempotency-Key. Keep in step with
-- ../../postgres/2026-12-04-100000_xp_idempotency_keys.
--
-- xp_ledger loses UNIQUE (server_id, reference): many changes may carry one reference ("Weekly
-- patrol"). SQLite cannot drop a table constraint, so the table is rebuilt; every row is copied with
-- its id, so history cursors stay valid and nothing is lost.
CREATE TABLE xp_ledger_labels (
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
    at BIGINT NOT NULL
);
INSERT INTO xp_ledger_labels (id, server_id, roblox_id, operation, amount, delta, balance, reference, reason, key_id, key_name, at)
    SELECT id, server_id, roblox_id, operation, amount, delta, balance, reference, reason, key_id, key_name, at FROM xp_ledger;
DROP TABLE xp_ledger;
ALTER TABLE xp_ledger_labels RENAME TO xp_ledger;
CREATE INDEX xp_ledger_member ON xp_ledger (server_id, roblox_id, id);

-- One row per Idempotency-Key an API key used on a route in the last 24 hours (older rows are
-- deleted as the same API key writes new ones). Written in the transaction of the change it
-- answered; the uniqueness constraint is what makes two concurrent requests with one key apply once.
CREATE TABLE idempotency_keys (
    id INTEGER PRIMARY KEY,
    api_key_id BIGINT NOT NULL,
    server_id BIGINT NOT NULL,
    route TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    answer TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    CONSTRAINT idempotency_keys_one_per_scope UNIQUE (api_key_id, route, idempotency_key)
);
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (api_key_id, created_at);

-- EP is read in pages ordered by (at, id): an index in that order keeps each page a range scan.
DROP INDEX ep_entries_member;
CREATE INDEX ep_entries_member ON ep_entries (server_id, roblox_id, at, id);
