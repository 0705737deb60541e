import { chmod, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

/** Environment for one isolated launcher: always names its own data directory. */
export type IsolatedEnv = Record<string, string | undefined> & { INFRA_DATA_DIR: string };

/**
 * A private data directory and port set for one test, so it never touches the shared engines
 * from global setup. World-traversable because PostgreSQL runs as the `postgres` user under root.
 */
export async function isolatedEnv(
  base: number,
  overrides: Record<string, string> = {},
): Promise<IsolatedEnv> {
  const dir = await mkdtemp(path.join(tmpdir(), "boxoffice-infra-test-"));
  await chmod(dir, 0o755);
  const env: Record<string, string | undefined> = { ...process.env };
  delete env.DATABASE_URL;
  delete env.KAFKA_BROKERS;
  return {
    ...env,
    INFRA_DATA_DIR: dir,
    INFRA_POSTGRES_PORT: String(base),
    INFRA_KAFKA_PORT: String(base + 1),
    INFRA_KAFKA_CONTROLLER_PORT: String(base + 2),
    INFRA_READY_TIMEOUT_SECONDS: "120",
    ...overrides,
  };
}
