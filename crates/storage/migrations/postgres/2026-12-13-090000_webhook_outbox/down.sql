-- Events still in the outbox become events with pending deliveries, as before it.
INSERT INTO webhook_events (id, server_id, kind, body, created_at)
    SELECT event_id, server_id, kind, body, created_at FROM webhook_outbox;
INSERT INTO webhook_deliveries (event_id, endpoint_id, state, attempts, next_attempt_at, created_at, updated_at)
    SELECT o.event_id, e.endpoint, 'pending', 0, o.created_at, o.created_at, o.created_at
    FROM webhook_outbox o CROSS JOIN LATERAL unnest(string_to_array(o.endpoints, ' ')) AS e(endpoint)
    WHERE e.endpoint IN (SELECT id FROM webhook_endpoints);
DROP TABLE webhook_outbox;
