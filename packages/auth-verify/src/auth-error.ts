/**
 * Why a presented credential was refused. Stable string codes: clients may branch on them
 * (e.g. refresh on `TOKEN_EXPIRED`), logs and metrics group by them.
 *
 * - `TOKEN_TOO_LARGE`: the token is over {@link MAX_TOKEN_LENGTH} characters; refused before parsing.
 * - `MALFORMED`: not a compact JWS (RFC 7515 §7.1), undecodable header or payload, malformed
 *   `Authorization` or session cookie.
 * - `ALG_NOT_ALLOWED`: the header `alg` is not on the verifier's allowlist (`none` and HMAC never are;
 *   RFC 8725 §3.1, §3.2).
 * - `HEADER_NOT_ALLOWED`: the header carries `jku`, `x5u`, `jwk` or `x5c`; keys named or embedded by the
 *   token itself are never trusted or fetched (RFC 8725 §3.10, RFC 7515 §4.1.2–4.1.6).
 * - `UNKNOWN_KID`: no key with the header `kid` (or the `kid` is missing), even after one permitted refetch.
 * - `BAD_SIGNATURE`: the signature does not verify (tampered header, payload or signature, or another key).
 * - `TOKEN_EXPIRED`: `exp` is in the past beyond the clock tolerance (RFC 7519 §4.1.4).
 * - `TOKEN_NOT_YET_VALID`: `nbf` is in the future beyond the clock tolerance (RFC 7519 §4.1.5).
 * - `CLAIM_INVALID`: a required claim is missing or wrong (`iss`, `aud`, `sub`, `sid`, `iat`, `exp`,
 *   `roles`); {@link AuthError.claim} names it.
 * - `TYPE_INVALID`: the header `typ` is missing or not the session token type (RFC 8725 §3.11).
 * - `REVOKED`: the session was revoked (the verifier's `isRevoked` hook said so).
 * - `AMBIGUOUS_CREDENTIALS`: two different credentials were presented (cookie and bearer differ, or the
 *   session cookie appears twice in the `Cookie` header).
 * - `KEYS_UNAVAILABLE`: the verification keys could not be fetched; the token may be fine. Not the
 *   client's fault, so the GraphQL layer answers 503 instead of 401.
 */
export type AuthErrorReason =
  | "TOKEN_TOO_LARGE"
  | "MALFORMED"
  | "ALG_NOT_ALLOWED"
  | "HEADER_NOT_ALLOWED"
  | "UNKNOWN_KID"
  | "BAD_SIGNATURE"
  | "TOKEN_EXPIRED"
  | "TOKEN_NOT_YET_VALID"
  | "CLAIM_INVALID"
  | "TYPE_INVALID"
  | "REVOKED"
  | "AMBIGUOUS_CREDENTIALS"
  | "KEYS_UNAVAILABLE";

/**
 * A credential was present but is not acceptable. Thrown by `Verifier.authenticate` and
 * `Verifier.verifyToken`; never thrown for a request without credentials (that is anonymous).
 *
 * `message` is for logs only: it may name the failing check, so do not send it to clients
 * (the GraphQL helpers send only `reason`).
 */
export class AuthError extends Error {
  override readonly name = "AuthError";

  /**
   * @param reason stable reason code.
   * @param message human-readable detail for logs.
   * @param claim for `CLAIM_INVALID`, the claim that failed (e.g. `"aud"`).
   * @param cause the underlying error (a jose error, a fetch error), for logs.
   */
  constructor(
    readonly reason: AuthErrorReason,
    message: string,
    readonly claim?: string,
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause });
  }
}

/**
 * The verifier, signer or cookie helper was configured wrongly. Thrown synchronously at start-up
 * (construction), so a misconfigured service fails to boot instead of running with a silent default.
 */
export class AuthConfigError extends Error {
  override readonly name = "AuthConfigError";
}

/**
 * Largest accepted token, in characters (compact JWS is ASCII, so also bytes): 8 KiB. Our session
 * tokens are well under 1 KiB; the bound stops an attacker from making every subgraph base64-decode
 * and JSON-parse megabytes per request (RFC 8725 §3.11 asks verifiers to bound what they process).
 */
export const MAX_TOKEN_LENGTH = 8192;
