/**
 * What every subgraph that VERIFIES sessions (all but accounts, which issues them) wires up the same
 * way: the session cookies' names and flags, the `jose` verifier on the service's own replica of the
 * accounts subgraph's signing keys (fed by `signing-key.*` events; the JWKS endpoint only as a
 * fallback for a kid the replica does not know yet), and the local session denylist fed by
 * `session.revoked` events (so a signed-out token is refused without asking accounts). Accounts is not
 * a user of this: it signs tokens and owns the sessions.
 */
import {
  createAuthContext,
  createSessionCookies,
  createVerifier,
  type AuthContext,
  type AuthContextArgs,
  type Verifier,
} from "@boxoffice/auth-verify";
import type { SqlExecutor } from "@boxoffice/events";
import { createSessionDenylist, type SessionDenylist } from "./denylist.ts";
import type { LocalReplicaOptions } from "./local-replica.ts";
import { createSigningKeyReplica, type SigningKeyReplica } from "./signing-keys.ts";

/** The `AUTH_*` part of a verifying subgraph's validated environment (its src/env.ts). */
export interface VerifyingSubgraphEnv {
  NODE_ENV: "development" | "test" | "production";
  /** `iss` of session tokens (the accounts subgraph's AUTH_ISSUER). */
  AUTH_ISSUER: string;
  /** `aud` of session tokens (the accounts subgraph's AUTH_AUDIENCE). */
  AUTH_AUDIENCE: string;
  /** The accounts subgraph's JWKS URL: the fallback for a kid the local key replica does not know. */
  AUTH_JWKS_URL: string;
  /** Allow an `http:` JWKS URL on a non-loopback host (a private network); default false. */
  AUTH_JWKS_ALLOW_INSECURE_HTTP?: boolean | undefined;
  /** How long keys fetched from the JWKS fallback are reused, in seconds (default 600). */
  AUTH_JWKS_CACHE_MAX_AGE_SECONDS?: number | undefined;
  /** Read the plain-http development cookie; defaults to on only when NODE_ENV is development. */
  AUTH_INSECURE_DEV_COOKIES?: boolean | undefined;
  /** Longest session a token may grant, in seconds (the accounts subgraph's TTL); default 28 800. */
  AUTH_SESSION_TTL_SECONDS?: number | undefined;
}

export interface SubgraphAuth {
  /** The `session.revoked` consumer (start it with the service, stop it at shutdown) and `isRevoked`. */
  denylist: SessionDenylist;
  /**
   * The `signing-key.*` consumer and the key set the verifier reads: start it with the service
   * (before serving: it loads the table), stop it at shutdown, report its status in `/readyz`.
   */
  signingKeys: SigningKeyReplica;
  verifier: Verifier;
  /** The Apollo context function: `{ auth }` for the request (anonymous, user, or UNAUTHENTICATED). */
  context: (args: AuthContextArgs) => Promise<AuthContext>;
}

/**
 * Builds cookies, verifier, signing-key replica and denylist for a verifying subgraph. Nothing is
 * started: call `signingKeys.start()` and `denylist.start()` before serving (`startSubgraph` does).
 *
 * @param options what both local replicas share (service name = consumer-group namespace, Kafka, the
 *   service's own database and transaction runner, registry, logger) plus the validated `env`.
 * @throws AuthConfigError for an invalid environment (e.g. insecure cookies in production).
 */
export function createSubgraphAuth<Tx extends SqlExecutor>(
  options: LocalReplicaOptions<Tx> & { env: VerifyingSubgraphEnv },
): SubgraphAuth {
  const { env, ...replicaOptions } = options;
  const denylist = createSessionDenylist<Tx>(replicaOptions);
  const signingKeys = createSigningKeyReplica<Tx>(replicaOptions);
  const cookies = createSessionCookies({
    environment: env.NODE_ENV,
    insecureDevelopmentMode: env.AUTH_INSECURE_DEV_COOKIES ?? env.NODE_ENV === "development",
  });
  const verifier = createVerifier({
    issuer: env.AUTH_ISSUER,
    audience: env.AUTH_AUDIENCE,
    keys: {
      keyStore: signingKeys.keyStore,
      fallback: {
        jwksUrl: env.AUTH_JWKS_URL,
        allowInsecureHttp: env.AUTH_JWKS_ALLOW_INSECURE_HTTP === true,
        ...(env.AUTH_JWKS_CACHE_MAX_AGE_SECONDS !== undefined
          ? { cacheMaxAgeMs: env.AUTH_JWKS_CACHE_MAX_AGE_SECONDS * 1000 }
          : {}),
      },
    },
    cookies,
    ...(env.AUTH_SESSION_TTL_SECONDS === undefined
      ? {}
      : { maxSessionLifetimeSec: env.AUTH_SESSION_TTL_SECONDS }),
    isRevoked: (sessionId) => denylist.isRevoked(sessionId),
  });
  return { denylist, signingKeys, verifier, context: createAuthContext(verifier) };
}
