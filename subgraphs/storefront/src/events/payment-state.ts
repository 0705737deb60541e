/**
 * The shared core of the two payment-event handlers: one `payments` row per payment id, holding its
 * newest outcome (by `aggregateVersion`; the payments subgraph publishes one event per outcome).
 */
import { applyIfNewer, type EventEnvelope } from "@boxoffice/events";
import type { StorefrontTx } from "../db.ts";

/** The data of `payment.succeeded` and `payment.failed`. */
export interface PaymentData {
  paymentId: string;
  orderId: string;
  amountMinor: number;
  currency: string;
  reason?: string | undefined;
}

/**
 * Upserts the payment row if `event.aggregateVersion` is newer than the stored one.
 * @returns `applied` or `stale`.
 */
export async function applyPayment(
  tx: StorefrontTx,
  event: Pick<EventEnvelope, "aggregateVersion" | "occurredAt">,
  data: PaymentData,
  outcome: "SUCCEEDED" | "FAILED",
): Promise<"applied" | "stale"> {
  return applyIfNewer(tx, {
    table: "payments",
    key: { id: data.paymentId },
    version: event.aggregateVersion,
    values: {
      order_id: data.orderId,
      outcome,
      amount_minor: data.amountMinor,
      currency: data.currency,
      reason: data.reason ?? null,
      occurred_at: new Date(event.occurredAt),
    },
  });
}
