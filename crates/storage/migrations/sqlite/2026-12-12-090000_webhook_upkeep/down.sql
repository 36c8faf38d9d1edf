ALTER TABLE webhook_endpoints DROP COLUMN disabled_at;
ALTER TABLE webhook_endpoints DROP COLUMN failing_since;
ALTER TABLE webhook_endpoints DROP COLUMN previous_until;
ALTER TABLE webhook_endpoints DROP COLUMN previous_secret_sealed;
