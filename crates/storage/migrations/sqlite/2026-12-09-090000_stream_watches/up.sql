-- Stream watches and servers' stream credentials on SQLite. Keep in step with
-- ../../postgres/2026-12-09-090000_stream_watches.
-- A watch: a server follows a streamer into a channel; streamer_key (lower case) is what matches.
CREATE TABLE stream_watches (
    id INTEGER PRIMARY KEY,
    server_id BIGINT NOT NULL,
    platform TEXT NOT NULL,
    streamer TEXT NOT NULL,
    streamer_key TEXT NOT NULL,
    channel_id BIGINT NOT NULL,
    message TEXT,
    mention_role BIGINT,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX stream_watches_one_per_channel ON stream_watches (server_id, platform, streamer_key, channel_id);
CREATE INDEX stream_watches_streamer ON stream_watches (platform, streamer_key);
-- Each credential sealed (ChaCha20-Poly1305 under the server's secret key, bound to its column and row).
CREATE TABLE stream_keys (
    server_id BIGINT PRIMARY KEY,
    youtube_key_sealed TEXT,
    twitch_client_id_sealed TEXT,
    twitch_secret_sealed TEXT,
    updated_at BIGINT NOT NULL
);
