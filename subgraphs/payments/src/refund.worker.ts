/**
 * The refund worker: returns the money of every REFUND_PENDING payment (refunds.ts says how a payment
 * gets there) and records it REFUNDED with a `payment.refunded` event.
 *
 * Same protocol as a charge (services.ts), so crashes and several replicas are safe:
 * 1. claim: one transaction takes a batch of REFUND_PENDING payments whose attempt lease is free or
 *    lapsed (`FOR UPDATE SKIP LOCKED`: replicas skip each other's rows, PostgreSQL docs, SELECT, "The
 *    Locking Clause") and sets their lease (`attempt_started_at`), then commits;
 * 2. outside any transaction: `provider.refund` with the key `refund-<payment id>` (providers are
 *    idempotent by key: a retry after a crash gets the first refund back, never a second one);
 * 3. one transaction records REFUNDED (reference, time) and writes `payment.refunded` (the payment
 *    aggregate's version 2) to the outbox. A provider failure frees the lease and keeps the error for
 *    operators; the payment is retried with exponential back-off (0.5 s × 2^attempts, at most 10 min),
 *    logged as an error from the tenth attempt on.
 */
import {
  errorMessage,
  silentLogger,
  type BoxofficeEventDefinition,
  type EventsLogger,
  type Publisher,
} from "@boxoffice/events";
import { createPollingLoop } from "@boxoffice/service-kit";
import type { PaymentsTx, PrismaClient } from "./db.ts";
import { publishPaymentRefunded } from "./events/payment-events.ts";
import type { Payment } from "./generated/prisma/client.ts";
import type { PaymentProvider } from "./providers/payment-provider.ts";

export interface RefundWorkerOptions {
  prisma: PrismaClient;
  provider: PaymentProvider;
  publisher: Publisher<BoxofficeEventDefinition>;
  /** Time between polls when the previous one found nothing to do, ms (PAYMENTS_REFUND_POLL_MS). */
  pollIntervalMs: number;
  /** How long one refund attempt may hold a payment before another may retry it, ms (default 30 000). */
  attemptLeaseMs?: number;
  /** Payments claimed per poll (default 20). */
  batchSize?: number;
  logger?: EventsLogger;
}

export interface RefundWorker {
  /** Starts polling (the first poll runs at once). Idempotent. */
  start(): void;
  /**
   * Claims up to `batchSize` REFUND_PENDING payments and refunds them.
   * @returns the ids refunded by this call (a transient provider failure leaves a payment for later).
   * @throws the database error of the claim; nothing is claimed then.
   */
  runOnce(): Promise<string[]>;
  /** Stops polling and waits for the batch in flight. */
  stop(): Promise<void>;
  /** For /readyz and operators. */
  status(): { running: boolean; lastError: string | null; refundedTotal: number };
}

/** Creates the refund worker (not started). */
export function createRefundWorker(options: RefundWorkerOptions): RefundWorker {
  const { prisma, provider, publisher, pollIntervalMs } = options;
  const leaseSeconds = (options.attemptLeaseMs ?? 30_000) / 1000;
  const batchSize = options.batchSize ?? 20;
  const logger = options.logger ?? silentLogger;
  let refundedTotal = 0;

  const claim = () =>
    prisma.$transaction(async (tx: PaymentsTx) => {
      const due = await tx.$queryRaw<Array<{ id: string }>>`
        SELECT id::text FROM payments
        WHERE status = 'REFUND_PENDING'
          AND (attempt_started_at IS NULL
               OR attempt_started_at < now() - make_interval(secs => ${leaseSeconds}::float8))
          -- after a failure, back off exponentially (0.5 s × 2^attempts, at most 10 min)
          AND (last_error IS NULL
               OR updated_at < now() - make_interval(secs => LEAST(600, 0.5 * power(2, LEAST(attempts, 20)))::float8))
        ORDER BY updated_at
        LIMIT ${batchSize}
        FOR UPDATE SKIP LOCKED`;
      if (due.length === 0) return [];
      const ids = due.map((d) => d.id);
      await tx.$executeRaw`
        UPDATE payments SET attempt_started_at = now(), attempts = attempts + 1, updated_at = now()
        WHERE id = ANY(${ids}::uuid[])`;
      return tx.payment.findMany({ where: { id: { in: ids } } });
    });

  async function refundOne(payment: Payment): Promise<boolean> {
    try {
      if (!payment.providerReference) throw new Error("no provider reference recorded for the capture");
      const result = await provider.refund({
        idempotencyKey: `refund-${payment.id}`,
        chargeReference: payment.providerReference,
        amountMinor: payment.amountMinor,
        currency: payment.currency,
      });
      return await prisma.$transaction(async (tx: PaymentsTx) => {
        const recorded = await tx.payment.updateMany({
          where: { id: payment.id, status: "REFUND_PENDING" },
          data: {
            status: "REFUNDED",
            refundReference: result.reference,
            refundedAt: new Date(),
            attemptStartedAt: null,
            lastError: null,
            updatedAt: new Date(),
          },
        });
        if (recorded.count === 0) return false; // another replica's lapsed-lease retry recorded it
        await publishPaymentRefunded(
          tx,
          publisher,
          await tx.payment.findUniqueOrThrow({ where: { id: payment.id } }),
        );
        return true;
      });
    } catch (error) {
      const message = errorMessage(error);
      await prisma.payment.updateMany({
        where: { id: payment.id, status: "REFUND_PENDING" },
        data: { attemptStartedAt: null, lastError: message.slice(0, 500), updatedAt: new Date() },
      });
      // Every attempt counts (`attempts`); past ten, a person should look (a provider rejecting it for good).
      const log = payment.attempts >= 10 ? logger.error.bind(logger) : logger.warn.bind(logger);
      log("refund failed; it will be retried with back-off", {
        paymentId: payment.id,
        attempts: payment.attempts,
        error: message,
      });
      return false;
    }
  }

  const runOnce = async () => {
    const claimed = await claim();
    const refunded: string[] = [];
    for (const payment of claimed) if (await refundOne(payment)) refunded.push(payment.id);
    return refunded;
  };

  const loop = createPollingLoop({
    name: "refund",
    pollIntervalMs,
    logger,
    poll: async () => {
      const refunded = await runOnce();
      refundedTotal += refunded.length;
      if (refunded.length > 0) logger.info("payments refunded", { count: refunded.length });
      return refunded.length === batchSize;
    },
  });

  return {
    start: () => loop.start(),
    runOnce,
    stop: () => loop.stop(),
    status: () => ({ ...loop.status(), refundedTotal }),
  };
}
