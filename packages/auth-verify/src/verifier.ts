import {
  decodeProtectedHeader,
  errors,
  jwtVerify,
  type JWTPayload,
  type ProtectedHeaderParameters,
} from "jose";
import { AuthConfigError, AuthError, MAX_TOKEN_LENGTH } from "./auth-error.ts";
import { extractToken, isCompactJws, type RequestLike } from "./credentials.ts";
import { createKeyResolver, type KeySource } from "./key-source.ts";
import { ANONYMOUS, type AuthResult, type Principal } from "./principal.ts";
import { createSessionCookies, type SessionCookies } from "./session-cookies.ts";
import { ASYMMETRIC_ALGORITHMS, SESSION_TOKEN_TYPE, type AsymmetricAlgorithm } from "./session-token.ts";
import { VerifiedTokenCache, type CacheStats } from "./verified-token-cache.ts";

/**
 * Revocation hook: `true` refuses the token with `REVOKED`. Called on every authenticated request,
 * cached tokens included, so it must be fast and local (e.g. a denylist fed by `session.revoked`
 * events); it must not call the accounts service. If it throws, the request fails (fail closed).
 *
 * @param sessionId the token's `sid`.
 * @param issuedAt the token's `iat`, seconds since the Unix epoch (to revoke "everything issued before T").
 * @param userId the token's `sub`.
 */
export type IsRevoked = (sessionId: string, issuedAt: number, userId: string) => boolean | Promise<boolean>;

/** Options of {@link createVerifier}. Everything is checked at construction. */
export interface VerifierOptions {
  /** Expected `iss` (exact match, RFC 7519 §4.1.1). */
  readonly issuer: string;
  /** Expected `aud`: the token's `aud` must contain this value (or one of these), RFC 7519 §4.1.3. */
  readonly audience: string | readonly string[];
  /** Where the public keys come from: `{ jwksUrl }`, `{ jwks }`, `{ publicKeys }` or `{ keyStore, fallback }`. */
  readonly keys: KeySource;
  /**
   * Accepted header `alg` values. Default `["EdDSA"]`. `none` and HMAC (`HS*`) are refused at start-up:
   * all key sources are asymmetric, and accepting HMAC would let a token "signed" with the public key
   * as HMAC secret pass (algorithm confusion, RFC 8725 §2.1, §3.1).
   */
  readonly algorithms?: readonly AsymmetricAlgorithm[];
  /**
   * Allowed clock skew for `exp`, `nbf` and `iat`, in seconds. Default 5. Must be finite and within
   * [0, 300]; anything else is an {@link AuthConfigError}, not a silent default.
   */
  readonly clockToleranceSec?: number;
  /**
   * Longest session a token may grant, in seconds: a token whose `exp − iat` exceeds it (plus the
   * clock tolerance) is refused, and so is one whose `iat` is older than it (plus the tolerance), even
   * if signed. Default 28 800 (8 h, the accounts subgraph's AUTH_SESSION_TTL_SECONDS default); must
   * be an integer in [60, 2 592 000] (30 days). A leaked or mis-issued long-lived token then stops
   * working within one session lifetime (OWASP ASVS v4 §3.3, NIST SP 800-63B §7.2 reauthentication).
   */
  readonly maxSessionLifetimeSec?: number;
  /** Required header `typ`. Default {@link SESSION_TOKEN_TYPE}. */
  readonly typ?: string;
  /** Session cookie policy (the name to read). Default: production, `__Host-boxoffice_session`. */
  readonly cookies?: SessionCookies;
  /** Revocation hook, see {@link IsRevoked}. */
  readonly isRevoked?: IsRevoked;
  /**
   * Verified-token cache. Default `{ maxEntries: 10_000 }`; `false` turns it off. Entries never outlive
   * the token's `exp` and are re-verified after the key set changes; revocation is always consulted.
   */
  readonly cache?: { readonly maxEntries?: number } | false;
}

/** A configured verifier. Create one per process and share it. */
export interface Verifier {
  /**
   * Authenticates a request from its `Authorization: Bearer` header or session cookie (see
   * `extractToken` for precedence).
   * @returns `{ kind: "user", principal }`, or `ANONYMOUS` when no credential is present.
   * @throws AuthError when a credential is present but not acceptable (see `AuthErrorReason`).
   */
  authenticate(request: RequestLike): Promise<AuthResult>;
  /**
   * Verifies one compact JWS session token: size, shape, header (`alg` allowlist, no `jku`/`x5u`/`jwk`/
   * `x5c`, `kid`, `typ`), signature, `iss`, `aud`, `exp`, `nbf`, `iat`, `sub`, `sid`, `roles`, session
   * lifetime (`exp − iat` and the age of `iat` at most `maxSessionLifetimeSec`), revocation.
   * @throws AuthError with the reason code of the first failed check.
   */
  verifyToken(token: string): Promise<Principal>;
  /**
   * Refetches a remote JWKS now (e.g. on a key-rotation event or after removing a compromised key) and
   * invalidates every cached verification. No-op for static keys.
   * @throws AuthError `KEYS_UNAVAILABLE` if the fetch fails.
   */
  reloadKeys(): Promise<void>;
  /** Verified-token cache counters (all zero when the cache is off). */
  cacheStats(): CacheStats;
}

// Header parameters through which a token names or carries its own key. Trusting them lets the
// attacker choose the key (RFC 8725 §3.10); our tokens never use them, so their presence alone refuses.
const KEY_CARRYING_HEADERS = ["jku", "x5u", "jwk", "x5c"] as const;
const REQUIRED_CLAIMS = ["sub", "sid", "iat", "exp"];
const MAX_CLOCK_TOLERANCE_SEC = 300;
const DEFAULT_MAX_SESSION_LIFETIME_SEC = 28_800;
const MAX_SESSION_LIFETIME_BOUND_SEC = 30 * 86_400;

function checkMaxLifetime(value: number | undefined): number {
  if (value === undefined) return DEFAULT_MAX_SESSION_LIFETIME_SEC;
  if (!Number.isInteger(value) || value < 60 || value > MAX_SESSION_LIFETIME_BOUND_SEC) {
    throw new AuthConfigError(
      `maxSessionLifetimeSec must be an integer number of seconds in [60, ${MAX_SESSION_LIFETIME_BOUND_SEC}], got ${String(value)}`,
    );
  }
  return value;
}

function checkClockTolerance(value: number | undefined): number {
  if (value === undefined) return 5;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || value > MAX_CLOCK_TOLERANCE_SEC) {
    throw new AuthConfigError(
      `clockToleranceSec must be a finite number of seconds in [0, ${MAX_CLOCK_TOLERANCE_SEC}], got ${String(value)}`,
    );
  }
  return value;
}

function checkAlgorithms(value: readonly string[] | undefined): readonly string[] {
  const algorithms = value ?? ["EdDSA"];
  if (algorithms.length === 0) throw new AuthConfigError("algorithms must not be empty");
  for (const alg of algorithms) {
    if (!ASYMMETRIC_ALGORITHMS.has(alg)) {
      throw new AuthConfigError(
        `algorithm "${alg}" is not allowed: only asymmetric signature algorithms (never none or HMAC)`,
      );
    }
  }
  return [...algorithms];
}

function checkNonEmpty(value: unknown, option: string): void {
  if (typeof value !== "string" || value === "") {
    throw new AuthConfigError(`${option} must be a non-empty string`);
  }
}

/** Maps a jose failure to our reason codes; anything unexpected is rethrown as-is (fail closed). */
function toAuthError(error: unknown): AuthError {
  if (error instanceof AuthError) return error;
  if (error instanceof errors.JWTExpired) {
    return new AuthError("TOKEN_EXPIRED", "token has expired", "exp", error);
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === "nbf" && error.reason === "check_failed") {
      return new AuthError("TOKEN_NOT_YET_VALID", "token is not valid yet", "nbf", error);
    }
    if (error.claim === "typ") return new AuthError("TYPE_INVALID", "unexpected typ header", "typ", error);
    return new AuthError("CLAIM_INVALID", `claim "${error.claim}" is ${error.reason}`, error.claim, error);
  }
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return new AuthError("ALG_NOT_ALLOWED", "alg not allowed", undefined, error);
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return new AuthError("BAD_SIGNATURE", "signature verification failed", undefined, error);
  }
  if (error instanceof errors.JWKSNoMatchingKey) {
    return new AuthError("UNKNOWN_KID", "no key matches the token's kid", undefined, error);
  }
  if (error instanceof errors.JWKSMultipleMatchingKeys) {
    return new AuthError("KEYS_UNAVAILABLE", "several keys share the token's kid", undefined, error);
  }
  if (
    error instanceof errors.JWSInvalid ||
    error instanceof errors.JWTInvalid ||
    error instanceof errors.JOSENotSupported
  ) {
    return new AuthError("MALFORMED", "token is not a valid JWS/JWT", undefined, error);
  }
  throw error;
}

function checkHeader(header: ProtectedHeaderParameters, allowed: ReadonlySet<string>): void {
  if (typeof header.alg !== "string" || !allowed.has(header.alg)) {
    throw new AuthError("ALG_NOT_ALLOWED", `alg "${String(header.alg)}" is not allowed`);
  }
  for (const name of KEY_CARRYING_HEADERS) {
    if (name in header) throw new AuthError("HEADER_NOT_ALLOWED", `header "${name}" is not accepted`);
  }
  if (typeof header.kid !== "string" || header.kid === "") {
    throw new AuthError("UNKNOWN_KID", "token has no kid");
  }
}

function nonEmptyString(payload: JWTPayload, claim: string): string {
  const value = payload[claim];
  if (typeof value !== "string" || value === "") {
    throw new AuthError("CLAIM_INVALID", `claim "${claim}" must be a non-empty string`, claim);
  }
  return value;
}

function principalOf(
  payload: JWTPayload,
  nowSec: number,
  toleranceSec: number,
  maxLifetimeSec: number,
): Principal {
  const userId = nonEmptyString(payload, "sub");
  const sessionId = nonEmptyString(payload, "sid");
  const { iat, exp } = payload;
  if (typeof iat !== "number" || !Number.isFinite(iat) || iat > nowSec + toleranceSec) {
    // jose checks the type; a token issued in the future means a forged or badly skewed issuer.
    throw new AuthError("CLAIM_INVALID", 'claim "iat" is missing, not a number or in the future', "iat");
  }
  if (typeof exp !== "number" || !Number.isFinite(exp)) {
    throw new AuthError("CLAIM_INVALID", 'claim "exp" must be a number', "exp");
  }
  // A signature proves who issued a token, not that the issuer meant it to live this long: a key
  // misused or a bug in the issuer must not mint sessions that outlive every rotation.
  if (exp - iat > maxLifetimeSec + toleranceSec) {
    throw new AuthError("CLAIM_INVALID", 'claim "exp" is further after "iat" than a session may last', "exp");
  }
  if (iat < nowSec - maxLifetimeSec - toleranceSec) {
    throw new AuthError("CLAIM_INVALID", 'claim "iat" is older than a session may last', "iat");
  }
  const rolesClaim = payload["roles"];
  let roles: readonly string[] = [];
  if (rolesClaim !== undefined) {
    if (!Array.isArray(rolesClaim) || !rolesClaim.every((role): role is string => typeof role === "string")) {
      throw new AuthError("CLAIM_INVALID", 'claim "roles" must be an array of strings', "roles");
    }
    roles = Object.freeze([...rolesClaim]);
  }
  return Object.freeze({ userId, sessionId, roles, issuedAt: iat, expiresAt: exp });
}

/**
 * Creates a session-token verifier for a subgraph. Every request is authenticated locally from the
 * token and the accounts subgraph's public keys; the accounts service is never called.
 *
 * Rules applied (RFC 7519 §7.2, RFC 7515 §5.2, RFC 8725 JWT BCP): token at most 8 KiB, checked before
 * any decoding; `alg` on the allowlist before any key lookup; no key-carrying header; signature with
 * the key named by `kid`; `typ`; `iss`; `aud`; `exp` required and `nbf` honoured with the clock
 * tolerance; `sub`, `sid`, `iat` required.
 *
 * @throws AuthConfigError for any invalid option (see {@link VerifierOptions}).
 */
export function createVerifier(options: VerifierOptions): Verifier {
  checkNonEmpty(options.issuer, "issuer");
  const audience = typeof options.audience === "string" ? options.audience : [...options.audience];
  if (Array.isArray(audience)) {
    if (audience.length === 0) throw new AuthConfigError("audience must not be empty");
    for (const value of audience) checkNonEmpty(value, "audience");
  } else {
    checkNonEmpty(audience, "audience");
  }
  const algorithms = checkAlgorithms(options.algorithms);
  const allowedAlgorithms = new Set(algorithms);
  if ("publicKeys" in options.keys) {
    for (const { kid, alg } of options.keys.publicKeys) {
      if (!allowedAlgorithms.has(alg)) {
        throw new AuthConfigError(
          `publicKeys: key "${kid}" is bound to "${alg}", which is not in algorithms`,
        );
      }
    }
  }
  const clockToleranceSec = checkClockTolerance(options.clockToleranceSec);
  const maxSessionLifetimeSec = checkMaxLifetime(options.maxSessionLifetimeSec);
  const typ = options.typ ?? SESSION_TOKEN_TYPE;
  checkNonEmpty(typ, "typ");
  const cookieName = (options.cookies ?? createSessionCookies({ environment: "production" })).name;
  const keys = createKeyResolver(options.keys);
  let cache: VerifiedTokenCache | undefined;
  if (options.cache !== false) {
    const maxEntries = options.cache?.maxEntries ?? 10_000;
    if (!Number.isInteger(maxEntries) || maxEntries <= 0) {
      throw new AuthConfigError(`cache.maxEntries must be a positive integer, got ${String(maxEntries)}`);
    }
    cache = new VerifiedTokenCache(maxEntries);
  }
  const isRevoked = options.isRevoked;

  async function checkRevocation(principal: Principal): Promise<Principal> {
    if (
      isRevoked !== undefined &&
      (await isRevoked(principal.sessionId, principal.issuedAt, principal.userId))
    ) {
      throw new AuthError("REVOKED", "session has been revoked");
    }
    return principal;
  }

  async function verifyUncached(token: string, nowMs: number): Promise<Principal> {
    let header: ProtectedHeaderParameters;
    try {
      header = decodeProtectedHeader(token);
    } catch (error) {
      throw new AuthError("MALFORMED", "token header is not valid base64url JSON", undefined, error);
    }
    checkHeader(header, allowedAlgorithms);
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys.getKey, {
        algorithms: [...algorithms],
        issuer: options.issuer,
        audience,
        typ,
        clockTolerance: clockToleranceSec,
        requiredClaims: REQUIRED_CLAIMS,
        currentDate: new Date(nowMs),
      }));
    } catch (error) {
      throw toAuthError(error);
    }
    return principalOf(payload, Math.floor(nowMs / 1000), clockToleranceSec, maxSessionLifetimeSec);
  }

  async function verifyToken(token: string): Promise<Principal> {
    // Length first: nothing about an oversized token is decoded, hashed or looked up.
    if (typeof token !== "string" || token.length > MAX_TOKEN_LENGTH) {
      throw new AuthError("TOKEN_TOO_LARGE", `token is over ${MAX_TOKEN_LENGTH} characters`);
    }
    if (!isCompactJws(token)) throw new AuthError("MALFORMED", "token is not a compact JWS");
    const nowMs = Date.now();
    if (cache === undefined) return checkRevocation(await verifyUncached(token, nowMs));
    const key = VerifiedTokenCache.keyOf(token);
    // Stale remote keys mean the cache cannot vouch for removed keys: fall through to a full
    // verification, which makes jose refetch the JWKS.
    const generation = keys.generation();
    const cached = cache.get(key, keys.fresh() ? generation : -1, nowMs);
    if (cached !== undefined) return checkRevocation(cached);
    const principal = await checkRevocation(await verifyUncached(token, nowMs));
    // The generation read before verifying: if keys were refetched meanwhile, the entry is re-verified.
    cache.set(key, principal, generation, nowMs);
    return principal;
  }

  return {
    async authenticate(request: RequestLike): Promise<AuthResult> {
      const token = extractToken(request, cookieName);
      if (token === undefined) return ANONYMOUS;
      return { kind: "user", principal: await verifyToken(token) };
    },
    verifyToken,
    reloadKeys: () => keys.reload(),
    cacheStats: () => cache?.stats() ?? { hits: 0, misses: 0, size: 0 },
  };
}
