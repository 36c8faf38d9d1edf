-- Events still in the outbox become events with pending deliveries, as before it.
INSERT INTO webhook_events (id, server_id, kind, body, created_at)
    SELECT event_id, server_id, kind, body, created_at FROM webhook_outbox;
WITH RECURSIVE split(event_id, created_at, endpoint, rest) AS (
    SELECT event_id, created_at, '', endpoints || ' ' FROM webhook_outbox
    UNION ALL
    SELECT event_id, created_at, substr(rest, 1, instr(rest, ' ') - 1), substr(rest, instr(rest, ' ') + 1)
    FROM split WHERE rest <> ''
)
INSERT INTO webhook_deliveries (event_id, endpoint_id, state, attempts, next_attempt_at, created_at, updated_at)
    SELECT event_id, endpoint, 'pending', 0, created_at, created_at, created_at FROM split
    WHERE endpoint <> '' AND endpoint IN (SELECT id FROM webhook_endpoints);
DROP TABLE webhook_outbox;
