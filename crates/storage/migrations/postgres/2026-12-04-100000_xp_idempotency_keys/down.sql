-- Restores UNIQUE (server_id, reference). Rows that share a reference keep it on the oldest one only;
-- the others lose their label (the constraint allows no other way), never their change.
DROP INDEX ep_entries_member;
CREATE INDEX ep_entries_member ON ep_entries (server_id, roblox_id, at);

DROP TABLE idempotency_keys;

UPDATE xp_ledger l SET reference = NULL
    WHERE l.reference IS NOT NULL
      AND l.id <> (SELECT MIN(o.id) FROM xp_ledger o WHERE o.server_id = l.server_id AND o.reference = l.reference);
ALTER TABLE xp_ledger ADD CONSTRAINT xp_ledger_server_id_reference_key UNIQUE (server_id, reference);
