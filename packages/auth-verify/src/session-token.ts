/**
 * The session token profile shared by the signer (accounts subgraph) and every verifier.
 *
 * Header: `alg` (EdDSA), `kid` (RFC 7638 thumbprint of the signing key), `typ` {@link SESSION_TOKEN_TYPE}.
 * Claims: `iss`, `aud`, `sub` (user id), `sid` (session id), `iat`, `exp` (seconds since the epoch),
 * `roles` (string array).
 */

/**
 * Explicit `typ` of session tokens (RFC 8725 §3.11, "use explicit typing"): a verifier refuses any
 * other JWT, e.g. an ID token from an identity provider signed with a key we also trust.
 */
export const SESSION_TOKEN_TYPE = "boxoffice-session+jwt";

/** The signing algorithm: EdDSA over Ed25519 (RFC 8037); deterministic, no nonce to get wrong. */
export const SESSION_TOKEN_ALGORITHM = "EdDSA";

/** Asymmetric JWS algorithms a verifier may allow (RFC 7518 §3.1, RFC 8037). HMAC and `none` are absent on purpose. */
export type AsymmetricAlgorithm =
  | "EdDSA"
  | "Ed25519"
  | "ES256"
  | "ES384"
  | "ES512"
  | "RS256"
  | "RS384"
  | "RS512"
  | "PS256"
  | "PS384"
  | "PS512";

export const ASYMMETRIC_ALGORITHMS: ReadonlySet<string> = new Set<AsymmetricAlgorithm>([
  "EdDSA",
  "Ed25519",
  "ES256",
  "ES384",
  "ES512",
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
]);
