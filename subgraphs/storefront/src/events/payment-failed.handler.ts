import type { BoxofficeEventDefinition, EventHandler, EventOfType } from "@boxoffice/events";
import type { StorefrontTx } from "../db.ts";
import { applyPayment } from "./payment-state.ts";

/**
 * `payment.failed`: records the payment as FAILED. Idempotent (inbox) and version-aware (an older
 * outcome of the same payment is a no-op), see payment-state.ts.
 */
export function paymentFailedHandler(): EventHandler<
  EventOfType<BoxofficeEventDefinition, "payment.failed">,
  StorefrontTx
> {
  return async (event, tx) => {
    await applyPayment(tx, event, event.data, "FAILED");
  };
}
