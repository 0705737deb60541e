/**
 * What every subgraph that VERIFIES sessions (all but accounts, which issues them) wires up the same
 * way: the session cookies' names and flags, the `jose` verifier on the accounts subgraph's JWKS, and
 * the local session denylist fed by `session.revoked` events (so a signed-out token is refused
 * without asking accounts). Accounts is not a user of this: it signs tokens and owns the sessions.
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
import { createSessionDenylist, type SessionDenylist, type SessionDenylistOptions } from "./denylist.ts";

/** The `AUTH_*` part of a verifying subgraph's validated environment (its src/env.ts). */
export interface VerifyingSubgraphEnv {
  NODE_ENV: "development" | "test" | "production";
  /** `iss` of session tokens (the accounts subgraph's AUTH_ISSUER). */
  AUTH_ISSUER: string;
  /** `aud` of session tokens (the accounts subgraph's AUTH_AUDIENCE). */
  AUTH_AUDIENCE: string;
  /** The accounts subgraph's JWKS URL. */
  AUTH_JWKS_URL: string;
  /** Read the plain-http development cookie; defaults to on only when NODE_ENV is development. */
  AUTH_INSECURE_DEV_COOKIES?: boolean | undefined;
  /** Longest session a token may grant, in seconds (the accounts subgraph's TTL); default 28 800. */
  AUTH_SESSION_TTL_SECONDS?: number | undefined;
}

export interface SubgraphAuth {
  /** The `session.revoked` consumer (start it with the service, stop it at shutdown) and `isRevoked`. */
  denylist: SessionDenylist;
  verifier: Verifier;
  /** The Apollo context function: `{ auth }` for the request (anonymous, user, or UNAUTHENTICATED). */
  context: (args: AuthContextArgs) => Promise<AuthContext>;
}

/**
 * Builds cookies, verifier and denylist for a verifying subgraph. Nothing is started: call
 * `denylist.start()` before serving.
 *
 * @param options the denylist's options (service name = consumer-group namespace, Kafka, the
 *   service's own database and transaction runner, registry, logger) plus the validated `env`.
 * @throws AuthConfigError for an invalid environment (e.g. insecure cookies in production).
 */
export function createSubgraphAuth<Tx extends SqlExecutor>(
  options: SessionDenylistOptions<Tx> & { env: VerifyingSubgraphEnv },
): SubgraphAuth {
  const { env, ...denylistOptions } = options;
  const denylist = createSessionDenylist<Tx>(denylistOptions);
  const cookies = createSessionCookies({
    environment: env.NODE_ENV,
    insecureDevelopmentMode: env.AUTH_INSECURE_DEV_COOKIES ?? env.NODE_ENV === "development",
  });
  const verifier = createVerifier({
    issuer: env.AUTH_ISSUER,
    audience: env.AUTH_AUDIENCE,
    keys: { jwksUrl: env.AUTH_JWKS_URL },
    cookies,
    ...(env.AUTH_SESSION_TTL_SECONDS === undefined
      ? {}
      : { maxSessionLifetimeSec: env.AUTH_SESSION_TTL_SECONDS }),
    isRevoked: (sessionId) => denylist.isRevoked(sessionId),
  });
  return { denylist, verifier, context: createAuthContext(verifier) };
}
