-- @boxoffice/events: transactional outbox (schema version 1).
-- Copy into a migration of the service's own PostgreSQL schema (search_path = that schema).
-- The Prisma models in prisma/event-tables.prisma describe the same tables, so `prisma migrate`
-- sees no drift; the trigger and function below are not modelled by Prisma and live only here.
CREATE TABLE IF NOT EXISTS "event_outbox" (
    "id" BIGSERIAL NOT NULL,
    "event_id" UUID NOT NULL,
    "topic" TEXT NOT NULL,
    "message_key" TEXT NOT NULL,
    "aggregate_type" TEXT NOT NULL,
    "aggregate_id" TEXT NOT NULL,
    "aggregate_version" BIGINT NOT NULL,
    "event_type" TEXT NOT NULL,
    "schema_version" INTEGER NOT NULL,
    "payload" JSONB NOT NULL,
    "headers" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "published_at" TIMESTAMPTZ(6),
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "last_error" TEXT,

    CONSTRAINT "event_outbox_pkey" PRIMARY KEY ("id")
);

-- One event per (aggregate, version): the relay's per-aggregate order and the consumers'
-- "apply only if newer" both rely on versions being unique per aggregate.
CREATE UNIQUE INDEX IF NOT EXISTS "event_outbox_event_id_key" ON "event_outbox"("event_id");
CREATE UNIQUE INDEX IF NOT EXISTS "event_outbox_aggregate_type_aggregate_id_aggregate_version_key"
    ON "event_outbox"("aggregate_type", "aggregate_id", "aggregate_version");
-- The relay looks for unpublished rows (published_at IS NULL) and prunes old published ones.
CREATE INDEX IF NOT EXISTS "event_outbox_published_at_idx" ON "event_outbox"("published_at");

-- Wake the relay on commit: NOTIFY is delivered only when the inserting transaction commits
-- (PostgreSQL docs, NOTIFY), and identical notifications in one transaction are folded into one.
-- The payload is the schema name, so one channel serves every service in a database.
CREATE OR REPLACE FUNCTION "event_outbox_notify"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('boxoffice_event_outbox', TG_TABLE_SCHEMA);
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER "event_outbox_notify"
    AFTER INSERT ON "event_outbox"
    FOR EACH STATEMENT EXECUTE FUNCTION "event_outbox_notify"();

-- The relay's claim: the oldest pending rows by id. Without this partial index that scan walks
-- every published row still kept (retention) before reaching the pending ones.
CREATE INDEX IF NOT EXISTS "event_outbox_pending_idx" ON "event_outbox"("id") WHERE "published_at" IS NULL;
