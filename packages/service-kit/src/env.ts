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
  /** Comma-separated list → string[] (empty entries dropped). */
  csv: z.string().transform((s) =>
    s
      .split(",")
      .map((x) => x.trim())
      .filter(Boolean),
  ),
};
