/**
 * The durable order timer: cancels PENDING orders whose `expires_at` (plus the grace period) has passed.
 *
 * Durable because the timer IS the row: `expires_at` is written with the order, so a restart, a crash
 * or a deploy loses nothing — the next poll of any replica finds every order that fell due meanwhile.
 * Once-only with several replicas because each batch claims its orders with
 * `SELECT … FOR UPDATE SKIP LOCKED` (PostgreSQL docs, SELECT, "The Locking Clause": rows locked by
 * another replica are skipped rather than waited for) and re-checks `status = 'PENDING'` under the lock;
 * the cancellation (status CANCELLED, reason EXPIRED, version + 1) and its `order.cancelled` outbox row
 * commit in the same transaction, so an order is cancelled, and announced, exactly once.
 */
import type { BoxofficeEventDefinition, EventsLogger, Publisher } from "@boxoffice/events";
import { silentLogger } from "@boxoffice/events";
import { createPollingLoop } from "@boxoffice/service-kit";
import type { PrismaClient } from "./db.ts";
import { publishOrderState } from "./events/order-events.ts";

export interface OrderExpirationWorkerOptions {
  prisma: PrismaClient;
  publisher: Publisher<BoxofficeEventDefinition>;
  /** Time between polls when the previous one found nothing due, in ms (ORDER_EXPIRATION_POLL_MS). */
  pollIntervalMs: number;
  /**
   * Seconds after `expires_at` before an order is cancelled (ORDER_EXPIRATION_GRACE_SECONDS; default 0):
   * lets a payment captured before `expires_at` arrive and complete the order.
   */
  graceSeconds?: number;
  /** Orders claimed per transaction (default 100); a full batch polls again at once. */
  batchSize?: number;
  logger?: EventsLogger;
}

export interface OrderExpirationWorker {
  /** Starts polling (the first poll runs at once). Idempotent. */
  start(): void;
  /**
   * Claims and cancels up to `batchSize` due orders in one transaction.
   * @returns the ids of the orders it cancelled (empty when none were due or all were claimed by others).
   * @throws the database error; nothing is cancelled then (the transaction rolls back).
   */
  runOnce(): Promise<string[]>;
  /** Stops polling and waits for the batch in flight. */
  stop(): Promise<void>;
  /** For /readyz: running, and the last poll did not fail. */
  status(): { running: boolean; lastError: string | null; cancelledTotal: number };
}

/** Creates the expiration worker (not started). */
export function createOrderExpirationWorker(options: OrderExpirationWorkerOptions): OrderExpirationWorker {
  const { prisma, publisher, pollIntervalMs } = options;
  const batchSize = options.batchSize ?? 100;
  const graceSeconds = options.graceSeconds ?? 0;
  const logger = options.logger ?? silentLogger;
  let cancelledTotal = 0;

  const runOnce = () =>
    prisma.$transaction(async (tx) => {
      // The database clock decides what is due, so replicas with skewed clocks agree.
      const due = await tx.$queryRaw<Array<{ id: string }>>`
        SELECT id::text FROM orders
        WHERE status = 'PENDING' AND expires_at + make_interval(secs => ${graceSeconds}::float8) <= now()
        ORDER BY expires_at
        LIMIT ${batchSize}
        FOR UPDATE SKIP LOCKED`;
      const cancelled: string[] = [];
      for (const { id } of due) {
        const order = await tx.order.update({
          where: { id, status: "PENDING" },
          data: {
            status: "CANCELLED",
            cancellationReason: "EXPIRED",
            version: { increment: 1 },
            updatedAt: new Date(),
          },
        });
        await publishOrderState(tx, publisher, order);
        cancelled.push(id);
      }
      return cancelled;
    });

  const loop = createPollingLoop({
    name: "order expiration",
    pollIntervalMs,
    logger,
    poll: async () => {
      const cancelled = await runOnce();
      cancelledTotal += cancelled.length;
      if (cancelled.length > 0) logger.info("expired orders cancelled", { count: cancelled.length });
      return cancelled.length === batchSize;
    },
  });

  return {
    start: () => loop.start(),
    runOnce,
    stop: () => loop.stop(),
    status: () => ({ ...loop.status(), cancelledTotal }),
  };
}
