-- @boxoffice/events read-your-writes: "has this consumer group applied the aggregate at version ≥ v?"
-- (consistency.ts ReadYourWrites; packages/events/sql/inbox.sql).
CREATE INDEX IF NOT EXISTS "event_inbox_aggregate_idx" ON "event_inbox"("aggregate_id", "aggregate_type", "consumer_group", "aggregate_version");
