import { AuthError, ANONYMOUS, type AuthResult } from "@boxoffice/auth-verify";
import type { Logger } from "@boxoffice/service-kit";
import { startSubgraph, type SubgraphApp } from "@boxoffice/service-kit/subgraph";
import type { AccountsContext } from "./context.ts";
import { createAuthThrottle, DEFAULT_THROTTLE } from "./auth-throttle.ts";
import { ACCOUNTS_SCHEMA, createPrisma } from "./db.ts";
import type { AccountsEnv } from "./env.ts";
import { resolvers } from "./resolvers/index.ts";
import { createAccountsServices, PRODUCER, type AccountsServices } from "./services.ts";
import { publishSigningKeys } from "./signing-keys.ts";

export interface AccountsApp extends SubgraphApp {
  services: AccountsServices;
}

/**
 * Starts the accounts subgraph (service-kit's `startSubgraph`: HTTP with /graphql, /healthz, /readyz,
 * the outbox relay that publishes its events) with the JWKS at /.well-known/jwks.json. It issues
 * sessions, so it verifies them itself (no denylist, no signing-key replica) and consumes nothing.
 *
 * @throws when the database or Kafka is unreachable at start, or the port is taken.
 */
export async function startAccounts(
  env: AccountsEnv,
  logger: Logger,
  options: { onQuery?: (sql: string) => void } = {},
): Promise<AccountsApp> {
  // At debug level every SQL statement is logged (how the e2e N+1 check counts queries).
  const onQuery =
    options.onQuery ??
    (logger.isLevelEnabled("debug") ? (sql: string) => logger.debug({ sql }, "sql query") : undefined);
  const prisma = createPrisma(env.DATABASE_URL, onQuery);
  const { parts, ...app } = await startSubgraph({
    name: "accounts",
    env,
    logger,
    schema: new URL("./schema.graphql", import.meta.url),
    resolvers,
    prisma,
    outbox: { producer: PRODUCER, schema: ACCOUNTS_SCHEMA },
    verifySessions: false,
    setup: async ({ registry, publisher }) => {
      const throttle = createAuthThrottle(env.DATABASE_URL, ACCOUNTS_SCHEMA, {
        ...DEFAULT_THROTTLE,
        freeFailures: env.ACCOUNTS_SIGNIN_FREE_FAILURES,
        maxDelaySeconds: env.ACCOUNTS_SIGNIN_MAX_DELAY_SECONDS,
        maxConsecutiveFailures: env.ACCOUNTS_SIGNIN_MAX_FAILURES,
        failuresPerAddress: env.ACCOUNTS_SIGNIN_FAILURES_PER_ADDRESS,
        signUpsPerAddress: env.ACCOUNTS_SIGNUP_PER_ADDRESS,
      });
      const services = await createAccountsServices(
        prisma,
        {
          issuer: env.AUTH_ISSUER,
          audience: env.AUTH_AUDIENCE,
          signingKey: env.AUTH_SIGNING_KEY,
          previousPublicKeys: env.AUTH_PREVIOUS_PUBLIC_KEYS,
          ttlSeconds: env.AUTH_SESSION_TTL_SECONDS,
          environment: env.NODE_ENV,
          insecureDevCookies: env.AUTH_INSECURE_DEV_COOKIES ?? env.NODE_ENV === "development",
        },
        logger,
        registry,
        throttle,
      );
      // Before serving: a token is never signed with a key whose event is not in the outbox.
      await publishSigningKeys(prisma, publisher, services.signer.jwks(), logger);
      return {
        services,
        shutdown: [{ name: "rate-limit pool", run: () => throttle.stop() }],
        routes: (app) => {
          app.get("/.well-known/jwks.json", (_req, res) => {
            res.setHeader("cache-control", "public, max-age=300");
            res.json(services.signer.jwks());
          });
        },
        context: async ({ req, res, base }): Promise<AccountsContext> => {
          const auth = await authenticateLeniently(services, req);
          return {
            ...base,
            auth,
            viewer: auth.kind === "user" ? { userId: auth.principal.userId } : {},
            services,
            res,
            loaders: { user: services.userLoader() },
          };
        },
      };
    },
  });
  return { ...app, services: parts.services };
}

/**
 * Accounts is where a client with an expired or revoked cookie signs in again, so an invalid token
 * makes the request anonymous here (the new session cookie then replaces it) instead of failing
 * the whole operation as the other subgraphs do.
 */
async function authenticateLeniently(
  services: AccountsServices,
  req: Parameters<AccountsServices["verifier"]["authenticate"]>[0],
): Promise<AuthResult> {
  try {
    return await services.verifier.authenticate(req);
  } catch (error) {
    if (error instanceof AuthError) return ANONYMOUS;
    throw error;
  }
}
