-- Outbound webhooks on SQLite. Keep in step with ../../postgres/2026-12-11-090000_webhooks.
-- An endpoint: a server's URL, the event types it receives (space-separated), its secret sealed.
CREATE TABLE webhook_endpoints (
    id TEXT PRIMARY KEY,
    server_id BIGINT NOT NULL,
    url TEXT NOT NULL,
    events TEXT NOT NULL,
    description TEXT,
    secret_sealed TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX webhook_endpoints_server ON webhook_endpoints (server_id);
-- The outbox: an event, written in the transaction of the change it reports.
CREATE TABLE webhook_events (
    id TEXT PRIMARY KEY,
    server_id BIGINT NOT NULL,
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
-- One delivery of an event to an endpoint: pending until delivered or failed.
CREATE TABLE webhook_deliveries (
    id INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL,
    endpoint_id TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at BIGINT,
    last_status INTEGER,
    last_error TEXT,
    last_latency_ms BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);
