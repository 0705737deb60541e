import { envFields, kafkaSecurityIssues, loadEnv } from "@boxoffice/service-kit";
import { z } from "zod";

const schema = z
  .object({
    NODE_ENV: envFields.nodeEnv,
    LOG_LEVEL: envFields.logLevel,
    ORDERS_PORT: envFields.port(4003),
    ORDERS_HOST: z.string().default("127.0.0.1"),
    /** PostgreSQL URL; the subgraph uses only its own schema, "orders". */
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
    /** How long a PENDING order reserves its ticket before the expiration worker cancels it, in seconds (1 s to 24 h). */
    ORDER_EXPIRATION_SECONDS: z.coerce.number().int().min(1).max(86_400).default(900),
    /**
     * How long after `expiresAt` the expiration worker waits before cancelling, in seconds (0 to 10 min):
     * a payment the payments subgraph accepted before `expiresAt` (it stops accepting
     * PAYMENTS_EXPIRY_MARGIN_SECONDS before) has this long to reach orders and complete the order,
     * instead of arriving to a cancelled order and being refunded.
     */
    ORDER_EXPIRATION_GRACE_SECONDS: z.coerce.number().int().min(0).max(600).default(30),
    /** Most PENDING orders one buyer may hold at once (fair inventory; 1 to 1000). */
    ORDERS_MAX_PENDING_PER_BUYER: z.coerce.number().int().min(1).max(1000).default(3),
    /**
     * Seconds after a buyer's order is cancelled (by them or by expiry) before the same buyer may order
     * the same ticket again (0 to 1 day); stops cancel-then-reorder from holding a ticket forever.
     */
    ORDERS_REORDER_COOLDOWN_SECONDS: z.coerce.number().int().min(0).max(86_400).default(300),
    /** How often the expiration worker looks for due orders, in milliseconds (50 ms to 1 min). */
    ORDER_EXPIRATION_POLL_MS: z.coerce.number().int().min(50).max(60_000).default(1_000),
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

export type OrdersEnv = z.infer<typeof schema>;

/** The orders subgraph's validated configuration (the only reader of `process.env`). */
export function ordersEnv(source: NodeJS.ProcessEnv = process.env): OrdersEnv {
  return loadEnv(schema, source);
}
