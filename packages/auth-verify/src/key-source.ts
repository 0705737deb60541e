import {
  createLocalJWKSet,
  createRemoteJWKSet,
  customFetch,
  errors,
  type CryptoKey,
  type FetchImplementation,
  type JSONWebKeySet,
  type JWK,
  type JWSHeaderParameters,
  type JWTVerifyGetKey,
} from "jose";
import { AuthConfigError, AuthError } from "./auth-error.ts";
import type { KeyStore } from "./key-store.ts";

/**
 * Keys from the accounts subgraph's JWKS endpoint, fetched with jose's remote key set. Keys are cached
 * for `cacheMaxAgeMs`; a token with an unknown `kid` triggers a refetch only if `cooldownMs` has
 * passed since the last successful fetch, so a flood of random `kid`s costs at most one fetch per
 * cooldown. A failed fetch (network error, timeout, non-200, not a JWKS) also starts the cooldown:
 * until it ends, requests that need a fetch fail with `KEYS_UNAVAILABLE` at once, so an outage of the
 * endpoint is not answered with a fetch per request. `Verifier.reloadKeys()` always fetches.
 * Redirects are not followed.
 */
export interface JwksUrlKeySource {
  /** `https:` URL of the JWKS. `http:` only for loopback hosts or with `allowInsecureHttp`. */
  readonly jwksUrl: string | URL;
  /** How long fetched keys are used before a refetch, in ms. Default 600 000 (10 min). Finite, >= 0. */
  readonly cacheMaxAgeMs?: number;
  /**
   * Minimum time between refetches caused by an unknown `kid`, and between a failed fetch and the next
   * attempt, in ms. Default 30 000. Finite, >= 0.
   */
  readonly cooldownMs?: number;
  /** HTTP timeout of one fetch, in ms. Default 5 000. Integer, > 0. */
  readonly timeoutMs?: number;
  /**
   * Allow `http:` to a non-loopback host (e.g. a private service network). Default `false`: over plain
   * http anyone on the path can substitute the keys and mint sessions.
   */
  readonly allowInsecureHttp?: boolean;
}

/** A fixed JWKS (RFC 7517 §5), e.g. loaded from configuration. Public keys only, each with a unique `kid`. */
export interface StaticJwksKeySource {
  readonly jwks: JSONWebKeySet;
}

/** Public keys as WebCrypto `CryptoKey`s (use jose's `importSPKI`/`importJWK` for PEM or JWK input). */
export interface PublicKeysKeySource {
  /** Each key is bound to one `kid` and one `alg` (RFC 8725 §3.1: one key, one algorithm). */
  readonly publicKeys: readonly { readonly kid: string; readonly alg: string; readonly key: CryptoKey }[];
}

/**
 * Keys replicated into the service itself (a {@link KeyStore} kept from `signing-key.*` events), with
 * the JWKS endpoint as a fallback. A token whose `kid` the store holds is verified from the store
 * alone: no network, whatever the state of the accounts service. The fallback is asked only for a
 * `kid` the store does not know (an empty store at a service's very first start, or a key published
 * a moment ago whose event has not arrived yet), and never for a `kid` the store has retired.
 */
export interface KeyStoreKeySource {
  readonly keyStore: KeyStore;
  /** The JWKS endpoint, for kids the store does not know. Without it such tokens are `UNKNOWN_KID`. */
  readonly fallback?: JwksUrlKeySource;
}

/** Where a verifier gets its keys: exactly one of the four shapes. */
export type KeySource = JwksUrlKeySource | StaticJwksKeySource | PublicKeysKeySource | KeyStoreKeySource;

/** A key resolver plus what the verified-token cache needs to know about key freshness. */
export interface KeyResolver {
  readonly getKey: JWTVerifyGetKey;
  /** Increases whenever the key set may have changed; cache entries from older generations are re-verified. */
  generation(): number;
  /** False when a remote key set is past its max age, so cached results must be re-verified (refetching). */
  fresh(): boolean;
  /** Refetches a remote key set now (no-op for static keys). */
  reload(): Promise<void>;
}

const PRIVATE_JWK_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "k", "oth", "priv"] as const;
const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);
const LOOPBACK_IPV4 = /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

function nonNegativeFinite(value: number | undefined, fallback: number, option: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0) {
    throw new AuthConfigError(`${option} must be a finite number >= 0 (ms), got ${String(value)}`);
  }
  return value;
}

function checkKid(kid: unknown, seen: Set<string>, where: string): string {
  if (typeof kid !== "string" || kid === "") {
    throw new AuthConfigError(`${where}: every key needs a non-empty "kid"`);
  }
  if (seen.has(kid)) throw new AuthConfigError(`${where}: duplicate kid "${kid}"`);
  seen.add(kid);
  return kid;
}

function checkPublicJwk(jwk: JWK, seen: Set<string>): void {
  checkKid(jwk.kid, seen, "jwks");
  if (jwk.kty === "oct") {
    // A symmetric key in a verifier's key set is how HMAC algorithm confusion starts (RFC 8725 §2.1).
    throw new AuthConfigError(`jwks: key "${String(jwk.kid)}" is symmetric (kty "oct"); only public keys`);
  }
  for (const member of PRIVATE_JWK_MEMBERS) {
    if (member in jwk) {
      throw new AuthConfigError(
        `jwks: key "${String(jwk.kid)}" holds private key material ("${member}"); publish public keys only`,
      );
    }
  }
}

/** Whether a response body is a JSON object with a `keys` array (what jose accepts as a JWKS). */
function isJwksLike(body: string): boolean {
  try {
    const parsed: unknown = JSON.parse(body);
    return (
      typeof parsed === "object" && parsed !== null && Array.isArray((parsed as { keys?: unknown }).keys)
    );
  } catch {
    return false;
  }
}

function jwksUrlResolver(source: JwksUrlKeySource): KeyResolver {
  let url: URL;
  try {
    url = new URL(source.jwksUrl);
  } catch (error) {
    throw new AuthConfigError(`jwksUrl is not a URL: ${String(source.jwksUrl)}`, { cause: error });
  }
  // The URL parser canonicalizes IPv4 hosts (127.1, 0x7f.0.0.1 → 127.0.0.1), so a dotted quad is
  // the only form 127/8 takes here; a name like 127.0.0.1.attacker.example is not loopback.
  const loopback = LOOPBACK_HOSTS.has(url.hostname) || LOOPBACK_IPV4.test(url.hostname);
  if (
    url.protocol !== "https:" &&
    !(url.protocol === "http:" && (loopback || source.allowInsecureHttp === true))
  ) {
    throw new AuthConfigError(
      `jwksUrl must be https (http only for loopback or allowInsecureHttp): ${url.href}`,
    );
  }
  const timeoutMs = source.timeoutMs ?? 5000;
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
    throw new AuthConfigError(`timeoutMs must be a positive integer (ms), got ${String(timeoutMs)}`);
  }
  const cooldownMs = nonNegativeFinite(source.cooldownMs, 30_000, "cooldownMs");
  let generation = 0;
  let lastBody: string | undefined;
  let lastFailureAtMs: number | undefined;
  // Watching fetches through jose's customFetch hook: when a refetched JWKS differs from the previous
  // one, a key may have been removed, so verifications cached under the old set must be redone.
  // jose starts its cooldown only after a successful fetch, so while the endpoint fails every request
  // needing keys (any random kid, or all requests once the keys are stale) would fetch again: an
  // attacker-driven flood against the accounts service exactly when it is struggling. A failed fetch
  // therefore also starts the cooldown; until it ends, fetches fail here without touching the network.
  const watchingFetch: FetchImplementation = async (href, init) => {
    if (lastFailureAtMs !== undefined && Date.now() - lastFailureAtMs < cooldownMs) {
      throw new Error("the last JWKS fetch failed; waiting for the cooldown before the next one");
    }
    try {
      const response = await fetch(href, init);
      if (response.status !== 200) {
        lastFailureAtMs = Date.now();
        return response;
      }
      const body = await response.clone().text();
      if (!isJwksLike(body)) {
        lastFailureAtMs = Date.now();
        return response;
      }
      lastFailureAtMs = undefined;
      if (lastBody !== undefined && body !== lastBody) generation += 1;
      lastBody = body;
      return response;
    } catch (error) {
      lastFailureAtMs = Date.now();
      throw error;
    }
  };
  const remote = createRemoteJWKSet(url, {
    cacheMaxAge: nonNegativeFinite(source.cacheMaxAgeMs, 600_000, "cacheMaxAgeMs"),
    cooldownDuration: cooldownMs,
    timeoutDuration: timeoutMs,
    [customFetch]: watchingFetch,
  });
  const getKey = async (header: JWSHeaderParameters): Promise<CryptoKey> => {
    try {
      return await remote(header);
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey) throw error;
      // Timeouts, connection errors, non-200 answers, invalid JSON: our outage, not a bad token.
      throw new AuthError("KEYS_UNAVAILABLE", "could not fetch the JWKS", undefined, error);
    }
  };
  return {
    getKey,
    generation: () => generation,
    fresh: () => remote.fresh,
    reload: async () => {
      // An explicit reload (operator action, key-rotation event) is never held back by a failed fetch.
      lastFailureAtMs = undefined;
      try {
        await remote.reload();
      } catch (error) {
        throw new AuthError("KEYS_UNAVAILABLE", "could not fetch the JWKS", undefined, error);
      }
    },
  };
}

function staticJwksResolver(source: StaticJwksKeySource): KeyResolver {
  if (!Array.isArray(source.jwks.keys) || source.jwks.keys.length === 0) {
    throw new AuthConfigError("jwks must hold at least one key");
  }
  const seen = new Set<string>();
  for (const jwk of source.jwks.keys) checkPublicJwk(jwk, seen);
  const local = createLocalJWKSet(source.jwks);
  return { getKey: local, generation: () => 0, fresh: () => true, reload: () => Promise.resolve() };
}

// WebCrypto algorithm (and curve) each JWS algorithm needs (RFC 7518 §3.1, RFC 8037, jose's own checks).
const WEBCRYPTO_FOR_ALG: Readonly<
  Record<string, { readonly names: readonly string[]; readonly curve?: string }>
> = {
  EdDSA: { names: ["Ed25519", "Ed448"] },
  Ed25519: { names: ["Ed25519"] },
  ES256: { names: ["ECDSA"], curve: "P-256" },
  ES384: { names: ["ECDSA"], curve: "P-384" },
  ES512: { names: ["ECDSA"], curve: "P-521" },
  RS256: { names: ["RSASSA-PKCS1-v1_5"] },
  RS384: { names: ["RSASSA-PKCS1-v1_5"] },
  RS512: { names: ["RSASSA-PKCS1-v1_5"] },
  PS256: { names: ["RSA-PSS"] },
  PS384: { names: ["RSA-PSS"] },
  PS512: { names: ["RSA-PSS"] },
};

function keyFitsAlgorithm(key: CryptoKey, alg: string): boolean {
  const expected = WEBCRYPTO_FOR_ALG[alg];
  if (expected === undefined || !expected.names.includes(key.algorithm.name)) return false;
  return (
    expected.curve === undefined || (key.algorithm as { namedCurve?: string }).namedCurve === expected.curve
  );
}

function publicKeysResolver(source: PublicKeysKeySource): KeyResolver {
  if (source.publicKeys.length === 0) throw new AuthConfigError("publicKeys must hold at least one key");
  const seen = new Set<string>();
  const byKid = new Map<string, { alg: string; key: CryptoKey }>();
  for (const entry of source.publicKeys) {
    const kid = checkKid(entry.kid, seen, "publicKeys");
    if (entry.key.type !== "public") {
      throw new AuthConfigError(`publicKeys: key "${kid}" is a ${entry.key.type} key; only public keys`);
    }
    if (!keyFitsAlgorithm(entry.key, entry.alg)) {
      // Otherwise every token under this kid would fail at request time with a bare TypeError from
      // WebCrypto, i.e. a 500 on every request instead of a service that refuses to start.
      throw new AuthConfigError(
        `publicKeys: key "${kid}" is a ${entry.key.algorithm.name} key, which cannot verify "${entry.alg}"`,
      );
    }
    byKid.set(kid, { alg: entry.alg, key: entry.key });
  }
  const getKey = (header: JWSHeaderParameters): Promise<CryptoKey> => {
    const entry = header.kid === undefined ? undefined : byKid.get(header.kid);
    if (entry === undefined || entry.alg !== header.alg) {
      return Promise.reject(new AuthError("UNKNOWN_KID", "no key for this kid and alg"));
    }
    return Promise.resolve(entry.key);
  };
  return { getKey, generation: () => 0, fresh: () => true, reload: () => Promise.resolve() };
}

function keyStoreResolver(source: KeyStoreKeySource): KeyResolver {
  const { keyStore } = source;
  const fallback = source.fallback === undefined ? undefined : jwksUrlResolver(source.fallback);
  const getKey: JWTVerifyGetKey = async (header, token) => {
    const kid = header.kid;
    // Checked before the fallback: a retired key may linger in a JWKS cache fetched earlier.
    if (kid !== undefined && keyStore.isRetired(kid)) {
      throw new AuthError("UNKNOWN_KID", "the token's key has been retired");
    }
    if (kid !== undefined && keyStore.has(kid)) return keyStore.getKey(header, token);
    if (fallback === undefined) throw new AuthError("UNKNOWN_KID", "no key for this kid");
    return fallback.getKey(header, token);
  };
  return {
    getKey,
    // Both parts can change the answer for a token, so a change in either redoes cached verifications.
    generation: () => keyStore.generation() + (fallback?.generation() ?? 0),
    // A filled store is kept current by its owner; only the fallback alone can go stale.
    fresh: () => keyStore.size() > 0 || (fallback?.fresh() ?? true),
    reload: () => fallback?.reload() ?? Promise.resolve(),
  };
}

/**
 * Builds the key resolver for a {@link KeySource}.
 * @throws AuthConfigError for an invalid URL or durations, symmetric or private keys, missing or
 *   duplicate `kid`s, or not exactly one source shape.
 */
export function createKeyResolver(source: KeySource): KeyResolver {
  const shapes = ["jwksUrl", "jwks", "publicKeys", "keyStore"].filter((shape) => shape in source);
  if (shapes.length !== 1) {
    throw new AuthConfigError("keys must have exactly one of jwksUrl, jwks, publicKeys, keyStore");
  }
  if ("keyStore" in source) return keyStoreResolver(source);
  if ("jwksUrl" in source) return jwksUrlResolver(source);
  if ("jwks" in source) return staticJwksResolver(source);
  return publicKeysResolver(source);
}
