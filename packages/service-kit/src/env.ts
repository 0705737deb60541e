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
   * `GATEWAY_SHARED_SECRET`: the secret the gateway sends to every subgraph (header
   * `x-boxoffice-gateway-secret`); a subgraph with it set answers nobody else. At least 32 characters
   * (e.g. `openssl rand -base64 32`). Each subgraph requires it in production.
   */
  gatewaySecret: z.string().min(32, "use at least 32 characters").optional(),
  /** Comma-separated list → string[] (empty entries dropped). */
  csv: z.string().transform((s) =>
    s
      .split(",")
      .map((x) => x.trim())
      .filter(Boolean),
  ),
};
