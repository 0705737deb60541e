-- CreateEnum
CREATE TYPE "order_status" AS ENUM ('PENDING', 'CANCELLED', 'COMPLETED');

-- CreateEnum
CREATE TYPE "order_cancellation_reason" AS ENUM ('BUYER', 'EXPIRED');

-- CreateEnum
CREATE TYPE "ticket_status" AS ENUM ('AVAILABLE', 'RESERVED', 'SOLD');

-- CreateEnum
CREATE TYPE "payment_outcome" AS ENUM ('SUCCEEDED', 'FAILED');

-- CreateEnum
CREATE TYPE "payment_disposition" AS ENUM ('COMPLETED_ORDER', 'DECLINED', 'REFUND_REQUIRED', 'AMOUNT_MISMATCH');

-- CreateTable
CREATE TABLE "orders" (
    "id" UUID NOT NULL,
    "ticket_id" UUID NOT NULL,
    "buyer_id" UUID NOT NULL,
    "status" "order_status" NOT NULL DEFAULT 'PENDING',
    "cancellation_reason" "order_cancellation_reason",
    "amount_minor" INTEGER NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "expires_at" TIMESTAMPTZ(6) NOT NULL,
    "version" INTEGER NOT NULL DEFAULT 1,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "orders_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ticket_replica" (
    "id" UUID NOT NULL,
    "title" TEXT NOT NULL,
    "price_minor" INTEGER NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "seller_id" UUID NOT NULL,
    "status" "ticket_status" NOT NULL,
    "version" INTEGER NOT NULL,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ticket_replica_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "order_payments" (
    "payment_id" TEXT NOT NULL,
    "order_id" UUID NOT NULL,
    "outcome" "payment_outcome" NOT NULL,
    "disposition" "payment_disposition" NOT NULL,
    "amount_minor" INTEGER NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "reason" TEXT,
    "occurred_at" TIMESTAMPTZ(6) NOT NULL,
    "recorded_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "order_payments_pkey" PRIMARY KEY ("payment_id")
);

-- CreateTable
CREATE TABLE "revoked_sessions" (
    "session_id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "revoked_at" TIMESTAMPTZ(6) NOT NULL,

    CONSTRAINT "revoked_sessions_pkey" PRIMARY KEY ("session_id")
);

-- CreateTable
CREATE TABLE "event_outbox" (
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

-- CreateTable
CREATE TABLE "event_inbox" (
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

    CONSTRAINT "event_inbox_pkey" PRIMARY KEY ("consumer_group","event_id")
);

-- CreateIndex
CREATE INDEX "orders_buyer_id_id_idx" ON "orders"("buyer_id", "id");

-- CreateIndex
CREATE INDEX "orders_ticket_id_idx" ON "orders"("ticket_id");

-- CreateIndex
CREATE INDEX "orders_expires_at_idx" ON "orders"("expires_at");

-- CreateIndex
CREATE INDEX "order_payments_order_id_idx" ON "order_payments"("order_id");

-- CreateIndex
CREATE INDEX "order_payments_disposition_idx" ON "order_payments"("disposition");

-- CreateIndex
CREATE INDEX "revoked_sessions_revoked_at_idx" ON "revoked_sessions"("revoked_at");

-- CreateIndex
CREATE UNIQUE INDEX "event_outbox_event_id_key" ON "event_outbox"("event_id");

-- CreateIndex
CREATE INDEX "event_outbox_published_at_idx" ON "event_outbox"("published_at");

-- CreateIndex
CREATE UNIQUE INDEX "event_outbox_aggregate_type_aggregate_id_aggregate_version_key" ON "event_outbox"("aggregate_type", "aggregate_id", "aggregate_version");

-- CreateIndex
CREATE INDEX "event_inbox_processed_at_idx" ON "event_inbox"("processed_at");

-- AddForeignKey
ALTER TABLE "order_payments" ADD CONSTRAINT "order_payments_order_id_fkey" FOREIGN KEY ("order_id") REFERENCES "orders"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- At most one PENDING order per ticket, enforced by the database: of two concurrent createOrder
-- transactions for one ticket, the second INSERT waits for the first and then fails with a unique
-- violation (PostgreSQL docs, "Partial Indexes", example 11.3). Prisma cannot model a partial index.
CREATE UNIQUE INDEX "orders_ticket_pending_key" ON "orders"("ticket_id") WHERE "status" = 'PENDING';

-- The expiration worker's scan: PENDING orders by due time.
CREATE INDEX "orders_pending_expires_at_idx" ON "orders"("expires_at") WHERE "status" = 'PENDING';
