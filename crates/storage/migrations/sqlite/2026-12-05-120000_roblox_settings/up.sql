-- Each server's Roblox settings on SQLite. Keep in step with ../../postgres/2026-12-05-120000_roblox_settings.
-- The Open Cloud key is never stored in the clear: key_sealed is ChaCha20-Poly1305 ciphertext (see
-- crates/storage/src/sealed.rs for its layout), bound to guild_id, in base64.
CREATE TABLE roblox_settings (
    guild_id BIGINT NOT NULL PRIMARY KEY,
    group_id BIGINT NOT NULL,
    key_sealed TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
