import { readFileSync } from "node:fs";
import { z } from "zod";

/** Thrown by `loadEnv` with every invalid or missing variable listed, one per line. */
export class EnvError extends Error {
  override readonly name = "EnvError";
  constructor(readonly issues: string[]) {
    super(`Invalid configuration:\n${issues.map((i) => `  - ${i}`).join("\n")}`);
  }
}

/**
 * Validates a service's environment against its zod object schema. Empty strings count as unset,
 * so `FOO=` falls back to the default instead of failing a coercion. Every problem is reported at
 * once (CONVENTIONS.md: "one zod schema, every problem reported at once, exit 1" — the caller's
 * `runMain` turns the throw into exit code 1).
 *
 * @throws EnvError listing each variable and what is wrong with it.
 */
export function loadEnv<S extends z.ZodObject>(
  schema: S,
  source: NodeJS.ProcessEnv = process.env,
): z.infer<S> {
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = schema.safeParse(cleaned);
  if (!parsed.success) {
    throw new EnvError(parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`));
  }
  return parsed.data;
}

/** Common building blocks for env schemas. */
export const envFields = {
  /** TCP port; 0 asks the OS for a free one (tests). */
  port: (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback),
  /** `development` unless told otherwise; `production` turns off Sandbox and dev cookies. */
  nodeEnv: z.enum(["development", "test", "production"]).default("development"),
  logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /**
   * `KAFKA_NAMESPACE`: optional prefix of every topic and consumer group this deployment uses, so
   * several deployments or test runs can share one Kafka cluster (see `eventNames`). Letters, digits,
   * `_` and `-`, at most 40 characters (Kafka topic names allow `[a-zA-Z0-9._-]`, Kafka docs).
   */
  kafkaNamespace: z
    .string()
    .regex(/^[a-zA-Z0-9_-]{1,40}$/, "use 1 to 40 letters, digits, _ or -")
    .optional(),
  /**
   * `KAFKA_TOPIC_PARTITIONS`: partitions of every event topic this service declares (default 3). They
   * bound how many instances of one consumer group share the work; choose once, since adding
   * partitions later moves keys and breaks per-aggregate order for events in flight (Kafka docs,
   * "Modifying topics"). 1 to 1000 (a guard against typos, not a Kafka limit).
   */
  kafkaTopicPartitions: z.coerce.number().int().min(1).max(1000).default(3),
  /**
   * `KAFKA_REPLICATION_FACTOR`: replicas of every topic it declares (default 1, the single local
   * broker); 3 on a production cluster, where `min.insync.replicas` becomes 2 (see `topicSpecsFor`).
   * At most the number of brokers, which the broker enforces when the topic is created.
   */
  kafkaReplicationFactor: z.coerce.number().int().min(1).default(1),
  /**
   * `CONSISTENCY_WAIT_MS`: the longest a query given a consistency token (`waitFor`) waits for the
   * service's read models to reflect that write before answering SERVICE_UNAVAILABLE retryable
   * NOT_YET_REPLICATED, in ms (default 2 000; 0 to 30 000). Each wait holds a request open, so keep it
   * short (see @boxoffice/events consistency.ts).
   */
  consistencyWaitMs: z.coerce.number().int().min(0).max(30_000).default(2_000),
  /**
   * `GATEWAY_SHARED_SECRET`: the secret the gateway sends to every subgraph (header
   * `x-boxoffice-gateway-secret`); a subgraph with it set answers nobody else. At least 32 characters
   * (e.g. `openssl rand -base64 32`). Each subgraph requires it in production.
   */
  gatewaySecret: z.string().min(32, "use at least 32 characters").optional(),
  /**
   * Kafka connection security, off by default (the local broker is plaintext): `KAFKA_SSL` (TLS to
   * the brokers), `KAFKA_SSL_CA_FILE` (PEM bundle to trust instead of the system CAs),
   * `KAFKA_SASL_MECHANISM` (`scram-sha-256`, `scram-sha-512` or `plain`; SCRAM per RFC 7677/5802
   * keeps the password off the wire, so `plain` is refused without TLS), `KAFKA_SASL_USERNAME`,
   * `KAFKA_SASL_PASSWORD`. Spread into a service's schema; {@link kafkaSecurityIssues} checks them together.
   */
  kafkaSecurity: {
    KAFKA_SSL: z.stringbool().default(false),
    KAFKA_SSL_CA_FILE: z.string().optional(),
    KAFKA_SASL_MECHANISM: z.enum(["scram-sha-256", "scram-sha-512", "plain"]).optional(),
    KAFKA_SASL_USERNAME: z.string().min(1).optional(),
    KAFKA_SASL_PASSWORD: z.string().min(1).optional(),
  },
  /** Comma-separated list → string[] (empty entries dropped). */
  csv: z.string().transform((s) =>
    s
      .split(",")
      .map((x) => x.trim())
      .filter(Boolean),
  ),
};

/** The `KAFKA_SSL*` / `KAFKA_SASL_*` variables of a validated environment. */
export interface KafkaSecurityEnv {
  KAFKA_SSL: boolean;
  KAFKA_SSL_CA_FILE?: string | undefined;
  KAFKA_SASL_MECHANISM?: "scram-sha-256" | "scram-sha-512" | "plain" | undefined;
  KAFKA_SASL_USERNAME?: string | undefined;
  KAFKA_SASL_PASSWORD?: string | undefined;
}

/**
 * What is wrong with a combination of Kafka security settings (for a schema's `superRefine`): a SASL
 * mechanism needs a username and password, and `plain` sends the password in clear text unless TLS
 * is on.
 */
export function kafkaSecurityIssues(env: KafkaSecurityEnv): Array<{ path: string; message: string }> {
  const issues: Array<{ path: string; message: string }> = [];
  if (env.KAFKA_SASL_MECHANISM && (!env.KAFKA_SASL_USERNAME || !env.KAFKA_SASL_PASSWORD)) {
    issues.push({
      path: "KAFKA_SASL_USERNAME",
      message: "KAFKA_SASL_MECHANISM needs a username and a password",
    });
  }
  if (!env.KAFKA_SASL_MECHANISM && (env.KAFKA_SASL_USERNAME || env.KAFKA_SASL_PASSWORD)) {
    issues.push({ path: "KAFKA_SASL_MECHANISM", message: "set the SASL mechanism for these credentials" });
  }
  if (env.KAFKA_SASL_MECHANISM === "plain" && !env.KAFKA_SSL) {
    issues.push({
      path: "KAFKA_SASL_MECHANISM",
      message: "plain sends the password in clear text: turn KAFKA_SSL on",
    });
  }
  if (env.KAFKA_SSL_CA_FILE && !env.KAFKA_SSL) {
    issues.push({ path: "KAFKA_SSL_CA_FILE", message: "only used with KAFKA_SSL=true" });
  }
  return issues;
}

/**
 * kafkajs `ssl` and `sasl` options from the validated variables (the CA file is read here, at start).
 * @throws Error when KAFKA_SSL_CA_FILE cannot be read.
 */
export function kafkaSecurity(env: KafkaSecurityEnv): {
  ssl?: true | { ca: string };
  sasl?: KafkaSasl;
} {
  const ssl = env.KAFKA_SSL
    ? env.KAFKA_SSL_CA_FILE
      ? { ca: readFileSync(env.KAFKA_SSL_CA_FILE, "utf8") }
      : (true as const)
    : undefined;
  const username = env.KAFKA_SASL_USERNAME ?? "";
  const password = env.KAFKA_SASL_PASSWORD ?? "";
  let sasl: KafkaSasl | undefined;
  if (env.KAFKA_SASL_MECHANISM === "plain") sasl = { mechanism: "plain", username, password };
  if (env.KAFKA_SASL_MECHANISM === "scram-sha-256") sasl = { mechanism: "scram-sha-256", username, password };
  if (env.KAFKA_SASL_MECHANISM === "scram-sha-512") sasl = { mechanism: "scram-sha-512", username, password };
  return { ...(ssl === undefined ? {} : { ssl }), ...(sasl ? { sasl } : {}) };
}

/** kafkajs' SASL options for the mechanisms we allow. */
export type KafkaSasl =
  | { mechanism: "plain"; username: string; password: string }
  | { mechanism: "scram-sha-256"; username: string; password: string }
  | { mechanism: "scram-sha-512"; username: string; password: string };
