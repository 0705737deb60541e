import type { BoxofficeEventDefinition, EventHandler, EventOfType } from "@boxoffice/events";
import type { StorefrontTx } from "../db.ts";
import { applyPayment } from "./payment-state.ts";

/**
 * `payment.succeeded`: records the payment as SUCCEEDED. Idempotent (inbox) and version-aware (an older
 * outcome of the same payment is a no-op), see payment-state.ts.
 */
export function paymentSucceededHandler(): EventHandler<
  EventOfType<BoxofficeEventDefinition, "payment.succeeded">,
  StorefrontTx
> {
  return async (event, tx) => {
    await applyPayment(tx, event, event.data, "SUCCEEDED");
  };
}
