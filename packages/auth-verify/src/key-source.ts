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

/**
 * Keys from the accounts subgraph's JWKS endpoint, fetched with jose's remote key set. Keys are cached
 * for `cacheMaxAgeMs`; a token with an unknown `kid` triggers a refetch only if `cooldownMs` has
 * passed since the last successful fetch, so a flood of random `kid`s costs at most one fetch per
 * cooldown. Redirects are not followed.
 */
export interface JwksUrlKeySource {
  /** `https:` URL of the JWKS. `http:` only for loopback hosts or with `allowInsecureHttp`. */
  readonly jwksUrl: string | URL;
  /** How long fetched keys are used before a refetch, in ms. Default 600 000 (10 min). Finite, >= 0. */
  readonly cacheMaxAgeMs?: number;
  /** Minimum time between refetches caused by an unknown `kid`, in ms. Default 30 000. Finite, >= 0. */
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

/** Where a verifier gets its keys: exactly one of the three shapes. */
export type KeySource = JwksUrlKeySource | StaticJwksKeySource | PublicKeysKeySource;

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

function jwksUrlResolver(source: JwksUrlKeySource): KeyResolver {
  let url: URL;
  try {
    url = new URL(source.jwksUrl);
  } catch (error) {
    throw new AuthConfigError(`jwksUrl is not a URL: ${String(source.jwksUrl)}`, { cause: error });
  }
  const loopback = LOOPBACK_HOSTS.has(url.hostname) || url.hostname.startsWith("127.");
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
  let generation = 0;
  let lastBody: string | undefined;
  // Watching fetches through jose's customFetch hook: when a refetched JWKS differs from the previous
  // one, a key may have been removed, so verifications cached under the old set must be redone.
  const watchingFetch: FetchImplementation = async (href, init) => {
    const response = await fetch(href, init);
    if (response.status === 200) {
      const body = await response.clone().text();
      if (lastBody !== undefined && body !== lastBody) generation += 1;
      lastBody = body;
    }
    return response;
  };
  const remote = createRemoteJWKSet(url, {
    cacheMaxAge: nonNegativeFinite(source.cacheMaxAgeMs, 600_000, "cacheMaxAgeMs"),
    cooldownDuration: nonNegativeFinite(source.cooldownMs, 30_000, "cooldownMs"),
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

function publicKeysResolver(source: PublicKeysKeySource): KeyResolver {
  if (source.publicKeys.length === 0) throw new AuthConfigError("publicKeys must hold at least one key");
  const seen = new Set<string>();
  const byKid = new Map<string, { alg: string; key: CryptoKey }>();
  for (const entry of source.publicKeys) {
    const kid = checkKid(entry.kid, seen, "publicKeys");
    if (entry.key.type !== "public") {
      throw new AuthConfigError(`publicKeys: key "${kid}" is a ${entry.key.type} key; only public keys`);
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

/**
 * Builds the key resolver for a {@link KeySource}.
 * @throws AuthConfigError for an invalid URL or durations, symmetric or private keys, missing or
 *   duplicate `kid`s, or not exactly one source shape.
 */
export function createKeyResolver(source: KeySource): KeyResolver {
  const shapes = ["jwksUrl", "jwks", "publicKeys"].filter((shape) => shape in source);
  if (shapes.length !== 1) {
    throw new AuthConfigError("keys must have exactly one of jwksUrl, jwks, publicKeys");
  }
  if ("jwksUrl" in source) return jwksUrlResolver(source);
  if ("jwks" in source) return staticJwksResolver(source);
  return publicKeysResolver(source);
}
