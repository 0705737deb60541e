-- @boxoffice/events: consumer inbox (schema version 1).
-- Copy into a migration of the service's own PostgreSQL schema (search_path = that schema).
-- A row per (consumer group, event) processed, written in the same transaction as the handler's
-- effects: the primary key makes a redelivered event a no-op.
CREATE TABLE IF NOT EXISTS "event_inbox" (
    "consumer_group" TEXT NOT NULL,
    "event_id" UUID NOT NULL,
    "event_type" TEXT NOT NULL,
    "aggregate_type" TEXT NOT NULL,
    "aggregate_id" TEXT NOT NULL,
    "aggregate_version" BIGINT NOT NULL,
    "topic" TEXT NOT NULL,
    "kafka_partition" INTEGER NOT NULL,
    "kafka_offset" BIGINT NOT NULL,
    "processed_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "event_inbox_pkey" PRIMARY KEY ("consumer_group", "event_id")
);

CREATE INDEX IF NOT EXISTS "event_inbox_processed_at_idx" ON "event_inbox"("processed_at");

-- Read-your-writes (consistency.ts ReadYourWrites): "has this group applied the aggregate at ≥ v?".
CREATE INDEX IF NOT EXISTS "event_inbox_aggregate_idx"
    ON "event_inbox"("aggregate_id", "aggregate_type", "consumer_group", "aggregate_version");
