import type { BoxofficeEventDefinition, EventsLogger, Publisher } from "@boxoffice/events";
import type { PaymentsTx, PrismaClient } from "./db.ts";
import { publishPaymentOutcome } from "./events/payment-events.ts";
import type { Payment } from "./generated/prisma/client.ts";
import type { ChargeResult } from "./providers/payment-provider.ts";
import { requestRefunds } from "./refunds.ts";

/** `failureReason` of a payment the reconciler closed because the provider had decided nothing. */
export const ABANDONED = "abandoned";

/**
 * Step 3 of a charge (services.ts), shared by payForOrder and the reconciler: in one transaction,
 * record the provider's decided outcome for PENDING `payment` (SUCCEEDED or FAILED, reference,
 * decline reason) with its `payment.succeeded` / `payment.failed` outbox row; a capture for an order
 * the replica already knows as CANCELLED becomes REFUND_PENDING at once (refunds.ts).
 *
 * @returns the payment as recorded. When another request recorded this payment first (its lease had
 *   lapsed), nothing is written and the recorded payment is returned (the provider gave both the same
 *   outcome, and the event exists already) — except a capture for a payment the reconciler closed as
 *   abandoned, which becomes REFUND_PENDING (the money is returned; `payment.refunded` follows).
 */
export async function recordChargeOutcome(
  deps: { prisma: PrismaClient; publisher: Publisher<BoxofficeEventDefinition>; logger?: EventsLogger },
  payment: Payment,
  result: ChargeResult,
): Promise<Payment> {
  return deps.prisma.$transaction(async (tx: PaymentsTx) => {
    // The replica row's lock first: an `order.cancelled` being applied concurrently either commits
    // before (we see CANCELLED below) or after (its handler sees this SUCCEEDED) — refunds.ts.
    await tx.$queryRaw`SELECT 1 FROM order_replica WHERE order_id = ${payment.orderId}::uuid FOR UPDATE`;
    const recorded = await tx.payment.updateMany({
      where: { id: payment.id, status: "PENDING" },
      data: {
        status: result.outcome === "succeeded" ? "SUCCEEDED" : "FAILED",
        providerReference: result.reference,
        failureReason: result.outcome === "declined" ? result.reason.slice(0, 500) : null,
        attemptStartedAt: null,
        lastError: null,
        updatedAt: new Date(),
      },
    });
    const final = await tx.payment.findUniqueOrThrow({ where: { id: payment.id } });
    if (recorded.count === 1) await publishPaymentOutcome(tx, deps.publisher, final);
    // The reconciler closed this payment as abandoned (the provider had decided nothing when asked),
    // and the provider captured it after all: the money goes back (refund worker).
    if (
      recorded.count === 0 &&
      result.outcome === "succeeded" &&
      final.status === "FAILED" &&
      final.failureReason === ABANDONED
    ) {
      deps.logger?.warn("capture arrived after its payment was closed as abandoned; refunding it", {
        paymentId: payment.id,
        orderId: payment.orderId,
      });
      return tx.payment.update({
        where: { id: payment.id },
        data: { status: "REFUND_PENDING", providerReference: result.reference, updatedAt: new Date() },
      });
    }
    // Captured, but the order was cancelled meanwhile: the money goes back (refund worker).
    if (final.status === "SUCCEEDED" && (await requestRefunds(tx, final.orderId, deps.logger)).length > 0) {
      return tx.payment.findUniqueOrThrow({ where: { id: payment.id } });
    }
    return final;
  });
}
