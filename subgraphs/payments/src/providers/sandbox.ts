/**
 * The built-in sandbox payment provider: real code, used in development and tests, deterministic,
 * never moves money. Its test tokens (documented in the subgraph README and here):
 *
 * | token                       | outcome                                                           |
 * |-----------------------------|-------------------------------------------------------------------|
 * | `tok_success`               | captured                                                          |
 * | `tok_decline`               | declined, reason `card_declined`                                  |
 * | `tok_insufficient_funds`    | declined, reason `insufficient_funds`                             |
 * | `tok_transient`             | the FIRST call for a given idempotency key fails transiently      |
 * |                             | (TransientProviderError); later calls with that key are captured  |
 * | `tok_transient_<n>` (n 1–9) | the first n calls for a key fail transiently, then captured       |
 * | anything else               | declined, reason `invalid_token`                                  |
 *
 * Refunds: `refund` returns a capture of this sandbox in full, once per refund idempotency key
 * (`refunds()`); a sandbox charge reference it no longer remembers (after a restart) is refunded too;
 * any other reference is a `TypeError` (a bug in the caller). The
 * network double in the tests can make any call fail transiently.
 *
 * Idempotency (as real providers): the first DECIDED outcome for an idempotency key is remembered and
 * returned for every later call with that key, whatever token is sent; only a decided capture counts
 * as a charge (`charges()`). Transient failures are counted per key and decide nothing. State lives in
 * this instance's memory, so it is per process: restart the service and the sandbox forgets (fine for
 * a sandbox; a real provider keeps it on its side).
 */
import { createHash } from "node:crypto";
import {
  TransientProviderError,
  type ChargeRequest,
  type ChargeResult,
  type PaymentProvider,
  type RefundRequest,
  type RefundResult,
} from "./payment-provider.ts";

/** The sandbox's documented test tokens. */
export const SANDBOX_TOKENS = {
  success: "tok_success",
  decline: "tok_decline",
  insufficientFunds: "tok_insufficient_funds",
  transient: "tok_transient",
} as const;

/** A capture the sandbox made (what a real provider would show in its dashboard). */
export interface SandboxCharge extends ChargeRequest {
  reference: string;
}

/** A refund the sandbox made. */
export interface SandboxRefund extends RefundRequest {
  reference: string;
}

export interface SandboxProvider extends PaymentProvider {
  /** Every capture made, in order: one per idempotency key at most. */
  charges(): readonly SandboxCharge[];
  /** Every refund made, in order: one per refund idempotency key at most, one per charge at most. */
  refunds(): readonly SandboxRefund[];
  /** How many times `charge` was called with this key (decided or not). */
  calls(idempotencyKey: string): number;
}

/** How many leading calls per key fail for a transient token; null when the token is not transient. */
function transientFailures(token: string): number | null {
  if (token === SANDBOX_TOKENS.transient) return 1;
  const match = /^tok_transient_([1-9])$/.exec(token);
  return match ? Number(match[1]) : null;
}

/** A deterministic reference for a key: the same key always yields the same reference. */
function referenceFor(prefix: string, idempotencyKey: string): string {
  return `${prefix}_${createHash("sha256").update(idempotencyKey).digest("hex").slice(0, 24)}`;
}

/** Creates a sandbox provider with empty state. */
export function createSandboxProvider(): SandboxProvider {
  const decided = new Map<string, ChargeResult>();
  const callCounts = new Map<string, number>();
  const captured: SandboxCharge[] = [];
  const refunded: SandboxRefund[] = [];

  return {
    name: "sandbox",
    charges: () => captured,
    refunds: () => refunded,
    lookup: (idempotencyKey) => Promise.resolve(decided.get(idempotencyKey) ?? null),
    refund(request): Promise<RefundResult> {
      const known = refunded.find(
        (r) => r.idempotencyKey === request.idempotencyKey || r.chargeReference === request.chargeReference,
      );
      if (known) return Promise.resolve({ reference: known.reference });
      const charge = captured.find((c) => c.reference === request.chargeReference);
      // A sandbox capture this process no longer remembers (its memory ends with a restart) is still
      // one of its own: refunded like the rest. Anything else is a caller's bug.
      if (!charge && !request.chargeReference.startsWith("sbx_ch_")) {
        return Promise.reject(
          new TypeError(`sandbox: no captured charge ${request.chargeReference} to refund`),
        );
      }
      const reference = referenceFor("sbx_re", request.idempotencyKey);
      refunded.push({ ...request, reference });
      return Promise.resolve({ reference });
    },
    calls: (key) => callCounts.get(key) ?? 0,
    charge(request) {
      const call = (callCounts.get(request.idempotencyKey) ?? 0) + 1;
      callCounts.set(request.idempotencyKey, call);
      const known = decided.get(request.idempotencyKey);
      if (known) return Promise.resolve(known);

      const failures = transientFailures(request.token);
      if (failures !== null && call <= failures) {
        return Promise.reject(
          new TransientProviderError(`sandbox: transient failure ${call} of ${failures} (${request.token})`),
        );
      }
      let result: ChargeResult;
      if (request.token === SANDBOX_TOKENS.success || failures !== null) {
        result = { outcome: "succeeded", reference: referenceFor("sbx_ch", request.idempotencyKey) };
        captured.push({ ...request, reference: result.reference });
      } else {
        const reason =
          request.token === SANDBOX_TOKENS.decline
            ? "card_declined"
            : request.token === SANDBOX_TOKENS.insufficientFunds
              ? "insufficient_funds"
              : "invalid_token";
        result = { outcome: "declined", reference: referenceFor("sbx_dc", request.idempotencyKey), reason };
      }
      decided.set(request.idempotencyKey, result);
      return Promise.resolve(result);
    },
  };
}
