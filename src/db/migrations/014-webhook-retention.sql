-- Delivered and dead webhook deliveries are kept for WEBHOOK_RETENTION_HOURS after they were
-- written, then each process's delivery worker deletes them a batch at a time (docs/reliability.md,
-- "Webhooks"). Every create with a webhook adds rows, so without this the table only grows. The
-- index lets the delete read the finished rows oldest first, however many are pending.
CREATE INDEX webhook_deliveries_finished ON webhook_deliveries (created_at) WHERE state <> 'pending';
