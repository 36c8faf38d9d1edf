-- Webhook upkeep on SQLite. Keep in step with ../../postgres/2026-12-12-090000_webhook_upkeep.
-- The secret before the latest rotation (sealed) and until when deliveries are signed with it too.
ALTER TABLE webhook_endpoints ADD COLUMN previous_secret_sealed TEXT;
ALTER TABLE webhook_endpoints ADD COLUMN previous_until BIGINT;
-- Since when its deliveries have failed (no 2xx since), and when it was disabled for it.
ALTER TABLE webhook_endpoints ADD COLUMN failing_since BIGINT;
ALTER TABLE webhook_endpoints ADD COLUMN disabled_at BIGINT;
