-- Live alerts on SQLite. Keep in step with ../../postgres/2026-12-10-090000_stream_alerts.
-- One row per watch and stream, inserted (claimed) before the message is posted: the unique index is
-- what keeps a stream from being announced twice, across restarts and processes. message_id is set once
-- posted; error when Discord refused the post; ended_at when the stream ended (and the message was edited).
CREATE TABLE stream_alerts (
    id INTEGER PRIMARY KEY,
    watch_id BIGINT NOT NULL,
    stream_id TEXT NOT NULL,
    channel_id BIGINT NOT NULL,
    message_id BIGINT,
    title TEXT NOT NULL,
    started_at BIGINT,
    posted_at BIGINT NOT NULL,
    ended_at BIGINT,
    error TEXT
);
CREATE UNIQUE INDEX stream_alerts_one_per_stream ON stream_alerts (watch_id, stream_id);
CREATE INDEX stream_alerts_open ON stream_alerts (watch_id) WHERE ended_at IS NULL;
