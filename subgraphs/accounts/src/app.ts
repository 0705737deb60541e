import { readFileSync } from "node:fs";
import { buildSubgraphSchema } from "@apollo/subgraph";
import { AuthError, ANONYMOUS, type AuthResult } from "@boxoffice/auth-verify";
import { createPublisher, createRelay } from "@boxoffice/events";
import {
  connectKafka,
  eventNames,
  eventsLogger,
  startService,
  type Logger,
  type RunningService,
  kafkaSecurity,
} from "@boxoffice/service-kit";
import { parse } from "graphql";
import type { AccountsContext } from "./context.ts";
import { createAuthThrottle, DEFAULT_THROTTLE } from "./auth-throttle.ts";
import { ACCOUNTS_SCHEMA, createPrisma } from "./db.ts";
import type { AccountsEnv } from "./env.ts";
import { resolvers } from "./resolvers/index.ts";
import { createAccountsServices, PRODUCER, type AccountsServices } from "./services.ts";
import { publishSigningKeys } from "./signing-keys.ts";

const typeDefs = parse(readFileSync(new URL("./schema.graphql", import.meta.url), "utf8"));

export interface AccountsApp {
  service: RunningService;
  services: AccountsServices;
  /** Stops HTTP, the relay, Kafka and Prisma, in that order. */
  stop: () => Promise<void>;
}

/**
 * Starts the accounts subgraph: HTTP (GraphQL at /graphql, JWKS at /.well-known/jwks.json,
 * /healthz, /readyz) and the outbox relay that publishes its events to Kafka.
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
  const { registry } = eventNames("accounts", env.KAFKA_NAMESPACE);
  const prisma = createPrisma(env.DATABASE_URL, onQuery);
  await prisma.$queryRaw`SELECT 1`;
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
  await publishSigningKeys(
    prisma,
    createPublisher({ registry, producer: PRODUCER }),
    services.signer.jwks(),
    logger,
  );
  const log = eventsLogger(logger);
  const kafka = await connectKafka({
    security: kafkaSecurity(env),
    clientId: PRODUCER,
    brokers: env.KAFKA_BROKERS,
    registry,
    logger: log,
    topics: { partitions: env.KAFKA_TOPIC_PARTITIONS, replicationFactor: env.KAFKA_REPLICATION_FACTOR },
  });
  const relay = createRelay({
    connectionString: env.DATABASE_URL,
    schema: ACCOUNTS_SCHEMA,
    kafka,
    logger: log,
  });
  await relay.start();

  const service = await startService<AccountsContext>({
    name: "accounts",
    port: env.ACCOUNTS_PORT,
    gatewaySecret: env.GATEWAY_SHARED_SECRET,
    host: env.ACCOUNTS_HOST,
    logger,
    schema: buildSubgraphSchema({ typeDefs, resolvers }),
    context: async ({ req, res, scope }) => {
      const auth = await authenticateLeniently(services, req);
      return {
        ...scope,
        auth,
        viewer: auth.kind === "user" ? { userId: auth.principal.userId } : {},
        services,
        res,
        loaders: { user: services.userLoader() },
      };
    },
    routes: (app) => {
      app.get("/.well-known/jwks.json", (_req, res) => {
        res.setHeader("cache-control", "public, max-age=300");
        res.json(services.signer.jwks());
      });
    },
    readiness: [
      { name: "database", check: async () => (await prisma.$queryRaw`SELECT 1`, true) },
      { name: "outbox-relay", check: () => relay.status().ready },
    ],
    shutdown: [
      { name: "outbox relay", run: async () => void (await relay.stop()) },
      { name: "rate-limit pool", run: () => throttle.stop() },
      { name: "prisma", run: () => prisma.$disconnect() },
    ],
  });
  return { service, services, stop: service.stop };
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
