/**
 * The authenticated user behind a request, read from a verified session token. Frozen: the same
 * object may be served to many requests from the verified-token cache.
 */
export interface Principal {
  /** The account id: the token's `sub` claim. */
  readonly userId: string;
  /** The session id: the token's `sid` claim; what revocation is keyed on. */
  readonly sessionId: string;
  /** Role names from the `roles` claim (an array of strings); `[]` when the claim is absent. */
  readonly roles: readonly string[];
  /** `iat`: when the token was issued, in seconds since the Unix epoch (RFC 7519 NumericDate). */
  readonly issuedAt: number;
  /** `exp`: when the token expires, in seconds since the Unix epoch (RFC 7519 NumericDate). */
  readonly expiresAt: number;
}

/** Outcome of authenticating a request that did not fail: a user, or nobody. */
export type AuthResult =
  { readonly kind: "user"; readonly principal: Principal } | { readonly kind: "anonymous" };

/** The one anonymous result: the request carried no credential at all. */
export const ANONYMOUS: AuthResult = Object.freeze({ kind: "anonymous" });
