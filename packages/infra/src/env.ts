import { homedir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";

/** The workspace root: packages/infra/src/ → ../../.. */
export const WORKSPACE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

const port = z.coerce.number().int().min(1024).max(65535);

const schema = z.object({
  /** Use this PostgreSQL instead of starting the embedded one (a superuser URL, e.g. postgresql://postgres@host:5432/postgres). */
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
  /** Use these Kafka brokers (comma-separated host:port) instead of starting the local broker. */
  KAFKA_BROKERS: z
    .string()
    .regex(/^[^,\s:]+:\d+(,[^,\s:]+:\d+)*$/, "expected host:port[,host:port…]")
    .optional(),
  /** Where the embedded engines keep their data, logs and pid files (git-ignored). */
  INFRA_DATA_DIR: z.string().min(1).default(path.join(WORKSPACE_ROOT, ".data")),
  /**
   * Where what one machine's runs can share is kept, outside any clone: today the Kafka broker's
   * resolved classpath (`kafka-classpath-<pom hash>.txt`), so only the first start on a machine runs
   * Maven. Default `$XDG_CACHE_HOME/boxoffice`, else `~/.cache/boxoffice` (XDG Base Directory spec);
   * a relative path is taken from the workspace root. Best effort: if it cannot be written, Maven runs
   * on every start instead.
   */
  INFRA_CACHE_DIR: z.string().min(1).optional(),
  /** Embedded PostgreSQL port; deliberately not 5432 so it never collides with a system server. */
  INFRA_POSTGRES_PORT: port.default(54329),
  /** Local Kafka client listener port. */
  INFRA_KAFKA_PORT: port.default(19092),
  /** Local Kafka KRaft controller listener port. */
  INFRA_KAFKA_CONTROLLER_PORT: port.default(19093),
  /** JVM heap for the local broker (-Xmx), e.g. 512m. */
  INFRA_KAFKA_HEAP: z
    .string()
    .regex(/^\d+[mg]$/)
    .default("512m"),
  /**
   * Extra arguments for Maven when it resolves the Kafka jars, split on spaces — e.g.
   * `-s /path/settings.xml` for a company mirror or proxy.
   */
  INFRA_MAVEN_ARGS: z.string().default(""),
  /** Seconds to wait for an engine to become ready before giving up. */
  INFRA_READY_TIMEOUT_SECONDS: z.coerce.number().int().positive().default(120),
});

export type InfraEnv = z.infer<typeof schema> & { INFRA_CACHE_DIR: string };

/**
 * Reads and validates the launcher's configuration from `source` (default `process.env`).
 * Empty strings count as unset.
 *
 * @throws Error listing every invalid variable at once (CONVENTIONS.md: one zod schema).
 */
export function loadInfraEnv(source: NodeJS.ProcessEnv = process.env): InfraEnv {
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = schema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new Error(`Invalid infrastructure configuration:\n${lines.join("\n")}`);
  }
  // XDG Base Directory spec: a relative XDG_CACHE_HOME is invalid and ignored.
  const xdg = cleaned.XDG_CACHE_HOME;
  const cacheHome = xdg && path.isAbsolute(xdg) ? xdg : path.join(cleaned.HOME ?? homedir(), ".cache");
  const cacheDir = parsed.data.INFRA_CACHE_DIR ?? path.join(cacheHome, "boxoffice");
  return { ...parsed.data, INFRA_CACHE_DIR: path.resolve(WORKSPACE_ROOT, cacheDir) };
}
