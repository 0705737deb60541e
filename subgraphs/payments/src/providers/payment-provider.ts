/**
 * The port to a payment provider (the one thing outside Boxoffice). Adapters implement it; the
 * services only ever see this interface, so tests may wrap or replace the provider's network.
 *
 * Contract every adapter must keep, as real providers do (Stripe `Idempotency-Key`, Adyen
 * `Idempotency-Key`): a charge is identified by `idempotencyKey`, and calling `charge` again with the
 * same key never charges again — it returns the first outcome. The payments service sends the payment
 * id as that key, which is what makes "crash after the charge, before recording it" recoverable: the
 * retry asks the provider again and learns the original outcome instead of charging twice.
 */

/** One charge request, in the provider's terms. */
export interface ChargeRequest {
  /** Unique per payment (the payment id): the provider's idempotency key. */
  idempotencyKey: string;
  /** The client's single-use payment token (e.g. from the provider's card form). */
  token: string;
  /** Amount in minor units of `currency`, as the order states it. */
  amountMinor: number;
  /** ISO 4217 alphabetic code, upper case. */
  currency: string;
}

/** What the provider decided: captured or declined (both final). */
export type ChargeResult =
  { outcome: "succeeded"; reference: string } | { outcome: "declined"; reference: string; reason: string };

/** One refund request: return a captured charge in full. */
export interface RefundRequest {
  /** Unique per refund (`refund-<payment id>`): the provider's idempotency key for the refund. */
  idempotencyKey: string;
  /** The provider's reference of the captured charge (`ChargeResult.reference`). */
  chargeReference: string;
  /** Amount in minor units of `currency`: the whole charge. */
  amountMinor: number;
  currency: string;
}

/** The provider returned the money (final; the same key returns the same result again). */
export interface RefundResult {
  reference: string;
}

/**
 * The provider could not decide now (timeout, 5xx, rate limit): nothing is known to be charged or
 * declined, and the same request may be retried with the same idempotency key.
 */
export class TransientProviderError extends Error {
  override readonly name = "TransientProviderError";
}

export interface PaymentProvider {
  /** Short, stable name stored with each payment, e.g. `sandbox`. */
  readonly name: string;
  /**
   * Charges `request.amountMinor` to the token, at most once per `request.idempotencyKey`.
   *
   * @returns `succeeded` or `declined` (final; the same key returns the same result again).
   * @throws TransientProviderError when the outcome is undecided and a retry with the same key may
   *   succeed; any other error is treated the same way (the outcome is unknown, so the payment stays
   *   PENDING and is retried under the same key, never re-created).
   */
  charge(request: ChargeRequest): Promise<ChargeResult>;
  /**
   * Refunds the captured charge `request.chargeReference` in full, at most once per
   * `request.idempotencyKey`.
   *
   * @returns the refund's reference (the same key returns the same refund again).
   * @throws TransientProviderError when the outcome is undecided: retry with the same key; any other
   *   error is treated the same way (the refund stays pending and is retried).
   */
  refund(request: RefundRequest): Promise<RefundResult>;
  /**
   * The decided outcome of the charge made with `idempotencyKey`, or null when the provider decided
   * none (never received, or only failed transiently) — how a payment left PENDING by a lost response
   * or a crash is reconciled without charging again (Stripe: retrieve by idempotency key / list
   * PaymentIntents by metadata; Adyen: payment details by reference).
   *
   * @throws TransientProviderError when the provider cannot answer now (any other error likewise).
   */
  lookup(idempotencyKey: string): Promise<ChargeResult | null>;
}
