-- Links between Discord users and Roblox accounts on SQLite. Keep in step with ../../postgres/2026-12-05-130000_roblox_links.
-- One Roblox account per Discord user (the primary key) and one Discord user per Roblox account (the
-- unique constraint), so two concurrent links of one account cannot both hold. A link that ends
-- (replaced or removed) moves to roblox_link_history in the same transaction. method is 'oauth' or
-- 'profile_code'; server_id names the server whose bot made a profile-code link.
CREATE TABLE roblox_links (
    discord_id BIGINT NOT NULL PRIMARY KEY,
    roblox_id BIGINT NOT NULL,
    method TEXT NOT NULL,
    server_id BIGINT,
    linked_at BIGINT NOT NULL,
    CONSTRAINT roblox_links_one_per_roblox UNIQUE (roblox_id)
);

CREATE TABLE roblox_link_history (
    id INTEGER PRIMARY KEY,
    discord_id BIGINT NOT NULL,
    roblox_id BIGINT NOT NULL,
    method TEXT NOT NULL,
    server_id BIGINT,
    linked_at BIGINT NOT NULL,
    unlinked_at BIGINT NOT NULL
);
CREATE INDEX roblox_link_history_discord ON roblox_link_history (discord_id, id);

-- Pending profile codes: one per server and Discord user, replaced by a newer one.
CREATE TABLE verification_codes (
    server_id BIGINT NOT NULL,
    discord_id BIGINT NOT NULL,
    roblox_id BIGINT NOT NULL,
    phrase TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (server_id, discord_id)
);
