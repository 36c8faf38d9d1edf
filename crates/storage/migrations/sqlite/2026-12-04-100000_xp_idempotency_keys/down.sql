-- Restores UNIQUE (server_id, reference). Rows that share a reference keep it on the oldest one only;
-- the others lose their label (the constraint allows no other way), never their change.
DROP INDEX ep_entries_member;
CREATE INDEX ep_entries_member ON ep_entries (server_id, roblox_id, at);

DROP TABLE idempotency_keys;

CREATE TABLE xp_ledger_unique (
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
INSERT INTO xp_ledger_unique (id, server_id, roblox_id, operation, amount, delta, balance, reference, reason, key_id, key_name, at)
    SELECT l.id, l.server_id, l.roblox_id, l.operation, l.amount, l.delta, l.balance,
        CASE WHEN l.id = (SELECT MIN(o.id) FROM xp_ledger o WHERE o.server_id = l.server_id AND o.reference = l.reference)
            THEN l.reference END,
        l.reason, l.key_id, l.key_name, l.at
    FROM xp_ledger l;
DROP TABLE xp_ledger;
ALTER TABLE xp_ledger_unique RENAME TO xp_ledger;
CREATE INDEX xp_ledger_member ON xp_ledger (server_id, roblox_id, id);
