/**
 * Validation of what clients send to the payments subgraph. Every check runs before anything is
 * written, so a refused request leaves no row and no event behind.
 */
import { createHash } from "node:crypto";
import { badUserInput, parseUuid } from "@boxoffice/service-kit";

/** Longest accepted payment token (provider tokens are short opaque ids; Stripe's are < 100). */
export const TOKEN_MAX = 200;
/** Longest accepted idempotency key (Stripe allows up to 255 characters). */
export const IDEMPOTENCY_KEY_MAX = 255;

/** Printable ASCII without spaces: what fits in an HTTP header if the client forwards it. */
const PRINTABLE = /^[\x21-\x7e]+$/;

/**
 * An id from the client, lower-cased.
 * @throws GraphQLError BAD_USER_INPUT (field `field`) when it is not a UUID.
 */
export function parseId(raw: string, field: string, what: string): string {
  return parseUuid(raw, field, `Not ${what} id.`);
}

/**
 * A payment token: 1 to 200 printable ASCII characters, surrounding white space removed.
 * @throws GraphQLError BAD_USER_INPUT (field `paymentToken`).
 */
export function parsePaymentToken(raw: string): string {
  if (raw.length > TOKEN_MAX * 2) throw badUserInput(`Use at most ${TOKEN_MAX} characters.`, "paymentToken");
  const token = raw.trim();
  if (token.length === 0) throw badUserInput("Enter a payment token.", "paymentToken");
  if (token.length > TOKEN_MAX) throw badUserInput(`Use at most ${TOKEN_MAX} characters.`, "paymentToken");
  if (!PRINTABLE.test(token)) {
    throw badUserInput("A payment token is printable ASCII without spaces.", "paymentToken");
  }
  return token;
}

/**
 * An idempotency key: 1 to 255 printable ASCII characters, taken as is (keys are compared exactly).
 * @throws GraphQLError BAD_USER_INPUT (field `idempotencyKey`).
 */
export function parseIdempotencyKey(raw: string): string {
  if (raw.length === 0) throw badUserInput("Enter an idempotency key, e.g. a UUID.", "idempotencyKey");
  if (raw.length > IDEMPOTENCY_KEY_MAX || !PRINTABLE.test(raw)) {
    throw badUserInput(
      `An idempotency key is 1 to ${IDEMPOTENCY_KEY_MAX} printable ASCII characters without spaces.`,
      "idempotencyKey",
    );
  }
  return raw;
}

/** SHA-256 (hex) of a token: what a payment stores to recognise a repeated request. */
export function tokenFingerprint(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}
