import { envFields, kafkaSecurityIssues, loadEnv } from "@boxoffice/service-kit";
import { z } from "zod";

const schema = z
  .object({
    NODE_ENV: envFields.nodeEnv,
    LOG_LEVEL: envFields.logLevel,
    STOREFRONT_PORT: envFields.port(4005),
    STOREFRONT_HOST: z.string().default("127.0.0.1"),
    /** PostgreSQL URL; the subgraph uses only its own schema, "storefront". */
    DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }),
    KAFKA_BROKERS: envFields.csv.pipe(z.array(z.string().regex(/^[^:\s]+:\d+$/)).min(1)),
    /** Prefix of every topic and consumer group (several deployments on one cluster); unset = standard names. */
    KAFKA_NAMESPACE: envFields.kafkaNamespace,
    /** Partitions and replicas of the topics this service declares at start (see envFields). */
    KAFKA_TOPIC_PARTITIONS: envFields.kafkaTopicPartitions,
    KAFKA_REPLICATION_FACTOR: envFields.kafkaReplicationFactor,
    /** Bound of a read-your-writes wait (`waitFor` arguments), ms: see service-kit envFields. */
    CONSISTENCY_WAIT_MS: envFields.consistencyWaitMs,
    /** KAFKA_SSL, KAFKA_SSL_CA_FILE, KAFKA_SASL_MECHANISM/USERNAME/PASSWORD: see service-kit envFields. */
    ...envFields.kafkaSecurity,
    /** The gateway's shared secret: when set, this subgraph answers only the gateway. Required in production. */
    GATEWAY_SHARED_SECRET: envFields.gatewaySecret,
    /** `iss` of session tokens: the accounts subgraph's AUTH_ISSUER. */
    AUTH_ISSUER: z.string().min(1).default("boxoffice-accounts"),
    /** `aud` of session tokens: the accounts subgraph's AUTH_AUDIENCE. */
    AUTH_AUDIENCE: z.string().min(1).default("boxoffice"),
    /** The accounts subgraph's JWKS (https, or http on a loopback host or with AUTH_JWKS_ALLOW_INSECURE_HTTP). */
    AUTH_JWKS_URL: z.url().default("http://127.0.0.1:4001/.well-known/jwks.json"),
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
  })
  .superRefine((env, ctx) => {
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

export type StorefrontEnv = z.infer<typeof schema>;

/** The storefront subgraph's validated configuration (the only reader of `process.env`). */
export function storefrontEnv(source: NodeJS.ProcessEnv = process.env): StorefrontEnv {
  return loadEnv(schema, source);
}
