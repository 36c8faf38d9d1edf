-- The webhook outbox on SQLite. Keep in step with ../../postgres/2026-12-13-090000_webhook_outbox.
-- An event a change wrote in its own transaction, with the endpoints subscribed to it then
-- (space-separated): one appended row and no secondary index, the least a change can pay. The
-- dispatcher takes them oldest first, writes the event and its deliveries, and deletes the row.
CREATE TABLE webhook_outbox (
    seq INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL,
    server_id BIGINT NOT NULL,
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    endpoints TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
