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
 * `payment.failed`: records the declined payment (DECLINED, with the provider's `reason`); the order
 * stays PENDING so the buyer can pay again before it expires. A failure reported after the same
 * payment succeeded changes nothing (see order-payments.ts). Idempotent.
 */
export function paymentFailedHandler(
  publisher: Publisher<BoxofficeEventDefinition>,
  logger?: EventsLogger,
): EventHandler<EventOfType<BoxofficeEventDefinition, "payment.failed">, OrdersTx> {
  return async (event, tx) => {
    await recordPayment(tx, publisher, event.data, "FAILED", new Date(event.occurredAt), logger);
  };
}
