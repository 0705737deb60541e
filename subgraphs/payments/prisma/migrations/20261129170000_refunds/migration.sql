-- Refunds: a captured payment whose order was cancelled before the capture could complete it is
-- returned to the buyer (src/refund.worker.ts).
ALTER TYPE "payment_status" ADD VALUE 'REFUND_PENDING';
ALTER TYPE "payment_status" ADD VALUE 'REFUNDED';

ALTER TABLE "payments" ADD COLUMN "refund_reference" TEXT,
ADD COLUMN "refunded_at" TIMESTAMPTZ(6);
