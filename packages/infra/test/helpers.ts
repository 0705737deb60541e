import { chmod, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { down } from "../src/index.ts";
import { freePort } from "../src/ports.ts";
import { isAlive } from "../src/processes.ts";
import { readState } from "../src/state.ts";

/** Environment for one isolated launcher: always names its own data directory and ports. */
export type IsolatedEnv = Record<string, string | undefined> & {
  INFRA_DATA_DIR: string;
  INFRA_POSTGRES_PORT: string;
  INFRA_KAFKA_PORT: string;
};

const PREFIX = "boxoffice-infra-test-";

/**
 * A private data directory and free ports for one test, so it never touches the shared engines
 * from global setup. World-traversable because PostgreSQL runs as the `postgres` user under root.
 */
export async function isolatedEnv(overrides: Record<string, string> = {}): Promise<IsolatedEnv> {
  const dir = await mkdtemp(path.join(tmpdir(), PREFIX));
  await chmod(dir, 0o755);
  const env: Record<string, string | undefined> = { ...process.env };
  delete env.DATABASE_URL;
  delete env.KAFKA_BROKERS;
  return {
    ...env,
    INFRA_DATA_DIR: dir,
    INFRA_POSTGRES_PORT: String(await freePort()),
    INFRA_KAFKA_PORT: String(await freePort()),
    INFRA_KAFKA_CONTROLLER_PORT: String(await freePort()),
    INFRA_READY_TIMEOUT_SECONDS: "120",
    ...overrides,
  };
}

/**
 * Stops and deletes the engines of earlier test runs that were killed (their owner process is
 * dead), so a SIGKILLed run — even its whole process group — leaves nothing running for long.
 */
export async function reapOrphanedTestEngines(): Promise<void> {
  const entries = await readdir(tmpdir()).catch(() => []);
  for (const entry of entries.filter((e) => e.startsWith(PREFIX))) {
    const dir = path.join(tmpdir(), entry);
    const state = await readState(dir);
    const owners = [state.postgres?.owner, state.kafka?.owner].filter((o) => o !== undefined);
    if (owners.length === 0 || owners.some((o) => isAlive(o.pid))) continue;
    await down({ env: { ...process.env, INFRA_DATA_DIR: dir }, report: () => undefined }).catch(
      () => undefined,
    );
    await rm(dir, { recursive: true, force: true });
  }
}
