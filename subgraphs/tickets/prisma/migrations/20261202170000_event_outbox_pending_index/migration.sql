-- @boxoffice/events relay: the oldest pending outbox rows by id, found without walking the published
-- rows kept for retention (packages/events/sql/outbox.sql). A partial index, which Prisma's schema
-- does not model (like the NOTIFY trigger), so it lives only in this migration.
CREATE INDEX IF NOT EXISTS "event_outbox_pending_idx" ON "event_outbox"("id") WHERE "published_at" IS NULL;
