import type {
  BoxofficeEventDefinition,
  EventHandler,
  EventOfType,
  EventsLogger,
  Publisher,
} from "@boxoffice/events";
import type { OrdersTx } from "../db.ts";
import { recordPayment } from "./order-payments.ts";

/**
 * `payment.succeeded`: completes the PENDING, unexpired order it pays (COMPLETED, version + 1,
 * `order.completed`), or records it flagged REFUND_REQUIRED / AMOUNT_MISMATCH when it cannot (see
 * order-payments.ts). Idempotent (inbox, and one row per payment id) and safe out of order.
 */
export function paymentSucceededHandler(
  publisher: Publisher<BoxofficeEventDefinition>,
  logger?: EventsLogger,
): EventHandler<EventOfType<BoxofficeEventDefinition, "payment.succeeded">, OrdersTx> {
  return async (event, tx) => {
    await recordPayment(tx, publisher, event.data, "SUCCEEDED", new Date(event.occurredAt), logger);
  };
}
