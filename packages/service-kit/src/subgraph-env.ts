/**
 * The environment every subgraph reads, declared once: `subgraphEnv` (what all five share: log level,
 * port and host, database, Kafka and its security, the gateway's secret) and `verifyingSubgraphEnv`
 * (plus the `AUTH_*` variables of a subgraph that verifies the accounts subgraph's sessions). A
 * subgraph's `src/env.ts` adds only its own variables.
 */
import { z } from "zod";
import { subgraphDeclaration } from "@boxoffice/topology";
import { envFields, kafkaSecurityIssues, type KafkaSecurityEnv } from "./env.ts";

/** `<NAME>_PORT` and `<NAME>_HOST` of subgraph `name` (e.g. `TICKETS_PORT`, `TICKETS_HOST`). */
export type SubgraphListenFields<N extends string> = {
  [K in `${Uppercase<N>}_PORT`]: ReturnType<typeof envFields.port>;
} & { [K in `${Uppercase<N>}_HOST`]: z.ZodDefault<z.ZodString> };

/** What every subgraph's validated environment has (besides `<NAME>_PORT` and `<NAME>_HOST`). */
export interface SubgraphEnv extends KafkaSecurityEnv {
  NODE_ENV: "development" | "test" | "production";
  LOG_LEVEL: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  /** PostgreSQL URL; the subgraph uses only its own schema. */
  DATABASE_URL: string;
  /** `host:port` list. */
  KAFKA_BROKERS: string[];
  KAFKA_NAMESPACE?: string | undefined;
  KAFKA_TOPIC_PARTITIONS: number;
  KAFKA_REPLICATION_FACTOR: number;
  /** Bound of a read-your-writes wait (`waitFor` arguments), ms. */
  CONSISTENCY_WAIT_MS: number;
  GATEWAY_SHARED_SECRET?: string | undefined;
}

const commonFields = {
  NODE_ENV: envFields.nodeEnv,
  LOG_LEVEL: envFields.logLevel,
  /** PostgreSQL URL; the subgraph uses only its own schema (named after it). */
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }),
  KAFKA_BROKERS: envFields.csv.pipe(z.array(z.string().regex(/^[^:\s]+:\d+$/)).min(1)),
  /** Prefix of every topic and consumer group (several deployments on one cluster); unset = standard names. */
  KAFKA_NAMESPACE: envFields.kafkaNamespace,
  /** Partitions and replicas of the topics this service declares at start (see envFields). */
  KAFKA_TOPIC_PARTITIONS: envFields.kafkaTopicPartitions,
  KAFKA_REPLICATION_FACTOR: envFields.kafkaReplicationFactor,
  /** Bound of a read-your-writes wait (`waitFor` arguments), ms: see envFields.consistencyWaitMs. */
  CONSISTENCY_WAIT_MS: envFields.consistencyWaitMs,
  /** KAFKA_SSL, KAFKA_SSL_CA_FILE, KAFKA_SASL_MECHANISM/USERNAME/PASSWORD: see envFields. */
  ...envFields.kafkaSecurity,
  /** The gateway's shared secret: when set, this subgraph answers only the gateway. Required in production. */
  GATEWAY_SHARED_SECRET: envFields.gatewaySecret,
};

/** The `AUTH_*` variables of a subgraph that verifies sessions (every subgraph but accounts). */
const verifyingFields = {
  /** `iss` of session tokens: the accounts subgraph's AUTH_ISSUER. */
  AUTH_ISSUER: z.string().min(1).default("boxoffice-accounts"),
  /** `aud` of session tokens: the accounts subgraph's AUTH_AUDIENCE. */
  AUTH_AUDIENCE: z.string().min(1).default("boxoffice"),
  /** The accounts subgraph's JWKS (https, or http on a loopback host or with AUTH_JWKS_ALLOW_INSECURE_HTTP). */
  AUTH_JWKS_URL: z
    .url()
    .default(`http://127.0.0.1:${subgraphDeclaration("accounts").port}/.well-known/jwks.json`),
  /**
   * Allow AUTH_JWKS_URL over plain http to a non-loopback host, e.g. `http://accounts:4001` inside a
   * private compose or cluster network. Off by default: over plain http anyone on the path can swap
   * the keys and mint sessions, so turn it on only where that network is trusted.
   */
  AUTH_JWKS_ALLOW_INSECURE_HTTP: z.stringbool().default(false),
  /**
   * How long keys fetched from AUTH_JWKS_URL are reused, in seconds (1 s to 1 day). Sessions are
   * verified from the local signing-key replica; the JWKS is only the fallback for a key the replica
   * does not know yet (e.g. an empty table at the very first start).
   */
  AUTH_JWKS_CACHE_MAX_AGE_SECONDS: z.coerce.number().int().min(1).max(86_400).default(600),
  /**
   * Read the plain-http development cookie (`boxoffice_session`); must match the accounts subgraph's
   * AUTH_INSECURE_DEV_COOKIES. Refused in production; defaults to on only when NODE_ENV=development.
   */
  AUTH_INSECURE_DEV_COOKIES: z.stringbool().optional(),
  /**
   * Longest session a token may grant, in seconds: the accounts subgraph's AUTH_SESSION_TTL_SECONDS
   * (set both from one value). A signed token with a longer `exp − iat`, or an older `iat`, is refused.
   */
  AUTH_SESSION_TTL_SECONDS: z.coerce.number().int().min(60).max(86_400).default(28_800),
};

/**
 * The zod schema of subgraph `name`'s environment: the fields every subgraph shares (`NODE_ENV`,
 * `LOG_LEVEL`, `<NAME>_PORT` (default: its port in the topology, packages/topology/topology.json; 0 = any free port), `<NAME>_HOST` (default
 * 127.0.0.1; containers set 0.0.0.0), `DATABASE_URL`, `KAFKA_*`, `GATEWAY_SHARED_SECRET`) plus
 * `shape`, refined together: the Kafka security combination (`kafkaSecurityIssues`),
 * GATEWAY_SHARED_SECRET required in production, AUTH_INSECURE_DEV_COOKIES (when `shape` has it)
 * refused in production. Chain `.superRefine` for rules of the subgraph's own.
 *
 * @param name lower-case subgraph name, e.g. `tickets` (its variables are `TICKETS_PORT`, `TICKETS_HOST`).
 * @throws TopologyError when `name` is not declared in the topology.
 */
export function subgraphEnv<N extends string, S extends z.ZodRawShape>(name: N, shape: S) {
  const upper = name.toUpperCase();
  const listen = {
    [`${upper}_PORT`]: envFields.port(subgraphDeclaration(name).port),
    [`${upper}_HOST`]: z.string().default("127.0.0.1"),
  } as SubgraphListenFields<N>;
  return z.object({ ...commonFields, ...listen, ...shape }).superRefine((parsed, ctx) => {
    const env = parsed as unknown as SubgraphEnv & { AUTH_INSECURE_DEV_COOKIES?: boolean };
    for (const issue of kafkaSecurityIssues(env)) {
      ctx.addIssue({ code: "custom", path: [issue.path], message: issue.message });
    }
    if (env.NODE_ENV === "production" && !env.GATEWAY_SHARED_SECRET) {
      ctx.addIssue({ code: "custom", path: ["GATEWAY_SHARED_SECRET"], message: "required in production" });
    }
    if (env.NODE_ENV === "production" && env.AUTH_INSECURE_DEV_COOKIES) {
      ctx.addIssue({
        code: "custom",
        path: ["AUTH_INSECURE_DEV_COOKIES"],
        message: "not allowed in production",
      });
    }
  });
}

/**
 * `subgraphEnv` plus the `AUTH_*` variables of a subgraph that verifies sessions issued by the
 * accounts subgraph (`AUTH_ISSUER`, `AUTH_AUDIENCE`, `AUTH_JWKS_URL`, `AUTH_JWKS_ALLOW_INSECURE_HTTP`,
 * `AUTH_JWKS_CACHE_MAX_AGE_SECONDS`, `AUTH_INSECURE_DEV_COOKIES`, `AUTH_SESSION_TTL_SECONDS`): what
 * `startSubgraph({ verifySessions: true })` reads. `shape` holds the subgraph's own variables.
 */
export function verifyingSubgraphEnv<N extends string, S extends z.ZodRawShape = Record<never, never>>(
  name: N,
  shape: S = {} as S,
) {
  return subgraphEnv(name, { ...verifyingFields, ...shape });
}
