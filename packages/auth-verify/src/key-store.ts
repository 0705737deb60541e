import { createLocalJWKSet, errors, type JSONWebKeySet, type JWK, type JWTVerifyGetKey } from "jose";
import { AuthConfigError } from "./auth-error.ts";

const PRIVATE_JWK_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "k", "oth", "priv"] as const;

/** What a key store holds: the keys to verify with, and the ids of keys that must never verify again. */
export interface KeyStoreState {
  /** Public JWKs (RFC 7517 §4), each with a unique `kid`. */
  readonly published: readonly JWK[];
  /** `kid`s of retired keys: refused even if another source (the JWKS fallback) still offers them. */
  readonly retired: readonly string[];
}

/**
 * A key set held in memory and replaced at run time, e.g. from a table a subgraph keeps of the
 * accounts subgraph's `signing-key.*` events. Verification then needs no call to accounts at all.
 * Pass it to `createVerifier({ keys: { keyStore, fallback } })`.
 */
export interface KeyStore {
  /**
   * Replaces the whole set. Cheap when nothing changed (the verifier's cached verifications stay valid);
   * otherwise bumps {@link generation}, so cached verifications are redone against the new set.
   * @returns true when the set changed.
   * @throws AuthConfigError when a key is symmetric, holds private material, lacks a `kid`, or two keys
   *   share a `kid`; the previous set stays in force.
   */
  replace(state: KeyStoreState): boolean;
  /** Number of published keys (0: nothing learnt yet, the fallback is used). */
  size(): number;
  /** Whether `kid` is published here. */
  has(kid: string): boolean;
  /** Whether `kid` was retired. */
  isRetired(kid: string): boolean;
  /** Increases whenever the set changes. */
  generation(): number;
  /** jose's key lookup over the published keys (`createLocalJWKSet`). @throws jose's JWKSNoMatchingKey. */
  readonly getKey: JWTVerifyGetKey;
}

function checkPublicJwk(jwk: JWK, seen: Set<string>): string {
  const { kid } = jwk;
  if (typeof kid !== "string" || kid === "") throw new AuthConfigError("keyStore: every key needs a kid");
  if (seen.has(kid)) throw new AuthConfigError(`keyStore: duplicate kid "${kid}"`);
  seen.add(kid);
  // A symmetric key in a verifier's key set is how HMAC algorithm confusion starts (RFC 8725 §2.1).
  if (jwk.kty === "oct") throw new AuthConfigError(`keyStore: key "${kid}" is symmetric; only public keys`);
  for (const member of PRIVATE_JWK_MEMBERS) {
    if (member in jwk) throw new AuthConfigError(`keyStore: key "${kid}" holds private key material`);
  }
  return kid;
}

/** Order-independent fingerprint of a state, so re-reading an unchanged table changes nothing. */
function fingerprint(state: KeyStoreState): string {
  const published = [...state.published]
    .map((jwk) => JSON.stringify(Object.entries(jwk).sort(([a], [b]) => a.localeCompare(b))))
    .sort();
  return JSON.stringify([published, [...state.retired].sort()]);
}

/** Creates an empty {@link KeyStore}. */
export function createKeyStore(): KeyStore {
  let generation = 0;
  let current = fingerprint({ published: [], retired: [] });
  let published = new Set<string>();
  let retired = new Set<string>();
  let local: JWTVerifyGetKey | undefined;
  return {
    replace(state) {
      const next = fingerprint(state);
      if (next === current) return false;
      const seen = new Set<string>();
      for (const jwk of state.published) checkPublicJwk(jwk, seen);
      const retiredNow = new Set(state.retired);
      // A key both published and retired is retired: retirement is the safe reading.
      const keys = state.published.filter((jwk) => !retiredNow.has(jwk.kid!)).map((jwk) => ({ ...jwk }));
      const jwks: JSONWebKeySet = { keys };
      local = keys.length > 0 ? createLocalJWKSet(jwks) : undefined;
      published = new Set(keys.map((jwk) => jwk.kid!));
      retired = retiredNow;
      current = next;
      generation += 1;
      return true;
    },
    size: () => published.size,
    has: (kid) => published.has(kid),
    isRetired: (kid) => retired.has(kid),
    generation: () => generation,
    getKey: (header, token) => {
      if (local === undefined) return Promise.reject(new errors.JWKSNoMatchingKey());
      return local(header, token);
    },
  };
}
