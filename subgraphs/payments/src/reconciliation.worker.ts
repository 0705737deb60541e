/**
 * The reconciliation worker: settles payments left PENDING that no request is working on any more —
 * a provider response lost, the payments process killed between the provider's capture and the
 * recording transaction, or a transient failure the client never retried. Without it such a payment
 * would stay PENDING for good: money possibly captured with no `payment.succeeded` (so no completed
 * order and no refund), and the order blocked for every other idempotency key (PAYMENT_IN_PROGRESS).
 *
 * A payment qualifies when it has been PENDING and untouched for `abandonAfterMs` and holds no live
 * attempt lease. The worker takes the lease (the same lease a client retry takes, so the two never
 * run together), asks the provider what it decided for the payment's key (`lookup`, never a second
 * charge), and then:
 * - a decided outcome is recorded exactly as a charge records it (charge-outcome.ts: SUCCEEDED or
 *   FAILED with its event; REFUND_PENDING when the order was cancelled meanwhile);
 * - no decision (the provider never captured) marks it FAILED, reason `abandoned`, with
 *   `payment.failed`: the order stays open and the buyer can pay with a new key.
 * A provider that cannot answer now frees the lease; the lookup is retried one window later.
 *
 * `abandonAfterMs` must be longer than any provider call can take (the lease, 30 s by default), or a
 * capture still in flight could be declared abandoned.
 */
import {
  errorMessage,
  silentLogger,
  type BoxofficeEventDefinition,
  type EventsLogger,
  type Publisher,
} from "@boxoffice/events";
import { createPollingLoop, type PollingLoop } from "@boxoffice/service-kit";
import { ABANDONED, recordChargeOutcome } from "./charge-outcome.ts";
import type { PaymentsTx, PrismaClient } from "./db.ts";
import { publishPaymentOutcome } from "./events/payment-events.ts";
import type { Payment } from "./generated/prisma/client.ts";
import type { PaymentProvider } from "./providers/payment-provider.ts";

export interface ReconciliationWorkerOptions {
  prisma: PrismaClient;
  provider: PaymentProvider;
  publisher: Publisher<BoxofficeEventDefinition>;
  /** Pause between polls that found less than a batch, ms (PAYMENTS_RECONCILE_POLL_MS). */
  pollIntervalMs: number;
  /** How long a payment stays PENDING and untouched before it is reconciled, ms (PAYMENTS_ABANDON_AFTER_SECONDS). */
  abandonAfterMs: number;
  /** The attempt lease, ms (as the charges use; default 30 000). */
  attemptLeaseMs?: number;
  /** Payments reconciled per poll (default 20). */
  batchSize?: number;
  logger?: EventsLogger;
}

export interface ReconciliationWorker extends Omit<PollingLoop, "status"> {
  /**
   * Reconciles up to `batchSize` stale PENDING payments.
   * @returns the payments settled by this call, as recorded.
   * @throws the database error of the claim.
   */
  runOnce(): Promise<Payment[]>;
  status(): ReturnType<PollingLoop["status"]> & { reconciledTotal: number };
}

/** Creates the reconciliation worker (not started). */
export function createReconciliationWorker(options: ReconciliationWorkerOptions): ReconciliationWorker {
  const { prisma, provider, publisher } = options;
  const leaseSeconds = (options.attemptLeaseMs ?? 30_000) / 1000;
  const abandonSeconds = options.abandonAfterMs / 1000;
  const batchSize = options.batchSize ?? 20;
  const logger = options.logger ?? silentLogger;
  let reconciledTotal = 0;

  const claim = () =>
    prisma.$transaction(async (tx: PaymentsTx) => {
      const stale = await tx.$queryRaw<Array<{ id: string }>>`
        SELECT id::text FROM payments
        WHERE status = 'PENDING'
          AND updated_at < now() - make_interval(secs => ${abandonSeconds}::float8)
          AND (attempt_started_at IS NULL
               OR attempt_started_at < now() - make_interval(secs => ${leaseSeconds}::float8))
        ORDER BY updated_at
        LIMIT ${batchSize}
        FOR UPDATE SKIP LOCKED`;
      if (stale.length === 0) return [];
      const ids = stale.map((s) => s.id);
      await tx.$executeRaw`UPDATE payments SET attempt_started_at = now() WHERE id = ANY(${ids}::uuid[])`;
      return tx.payment.findMany({ where: { id: { in: ids } } });
    });

  async function abandon(payment: Payment): Promise<Payment> {
    return prisma.$transaction(async (tx: PaymentsTx) => {
      const closed = await tx.payment.updateMany({
        where: { id: payment.id, status: "PENDING" },
        data: { status: "FAILED", failureReason: ABANDONED, attemptStartedAt: null, updatedAt: new Date() },
      });
      const final = await tx.payment.findUniqueOrThrow({ where: { id: payment.id } });
      if (closed.count === 1) await publishPaymentOutcome(tx, publisher, final);
      return final;
    });
  }

  async function reconcile(payment: Payment): Promise<Payment | null> {
    try {
      const decided = await provider.lookup(payment.id);
      const settled = decided
        ? await recordChargeOutcome({ prisma, publisher, logger }, payment, decided)
        : await abandon(payment);
      logger.warn("stale PENDING payment reconciled", {
        paymentId: payment.id,
        orderId: payment.orderId,
        providerDecided: decided?.outcome ?? null,
        status: settled.status,
      });
      return settled;
    } catch (error) {
      const message = errorMessage(error);
      await prisma.payment.updateMany({
        where: { id: payment.id, status: "PENDING" },
        // updated_at restarts the window: the lookup is retried after another PAYMENTS_ABANDON_AFTER_SECONDS.
        data: { attemptStartedAt: null, lastError: message.slice(0, 500), updatedAt: new Date() },
      });
      logger.warn("reconciliation lookup failed; it will be retried", {
        paymentId: payment.id,
        error: message,
      });
      return null;
    }
  }

  const runOnce = async () => {
    const settled: Payment[] = [];
    for (const payment of await claim()) {
      const result = await reconcile(payment);
      if (result) settled.push(result);
    }
    return settled;
  };

  const loop = createPollingLoop({
    name: "payment reconciliation",
    pollIntervalMs: options.pollIntervalMs,
    logger,
    poll: async () => {
      const settled = await runOnce();
      reconciledTotal += settled.length;
      return settled.length === batchSize;
    },
  });
  return {
    start: () => loop.start(),
    stop: () => loop.stop(),
    runOnce,
    status: () => ({ ...loop.status(), reconciledTotal }),
  };
}
