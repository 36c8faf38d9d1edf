-- Webhook upkeep on SQLite. Keep in step with ../../postgres/2026-12-12-090000_webhook_upkeep.
-- The secret before the latest rotation (sealed) and until when deliveries are signed with it too.
ALTER TABLE webhook_endpoints ADD COLUMN previous_secret_sealed TEXT;
ALTER TABLE webhook_endpoints ADD COLUMN previous_until BIGINT;
-- Since when its deliveries have failed (no 2xx since), and when it was disabled for it.
ALTER TABLE webhook_endpoints ADD COLUMN failing_since BIGINT;
ALTER TABLE webhook_endpoints ADD COLUMN disabled_at BIGINT;
-- Due deliveries by state and time: a plain index, which the dispatcher's query (its state a bound
-- parameter) can use; a partial index on state = 'pending' cannot serve a parameter.
DROP INDEX webhook_deliveries_due;
CREATE INDEX webhook_deliveries_state_due ON webhook_deliveries (state, next_attempt_at, id);
