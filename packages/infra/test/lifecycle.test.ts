import { spawn } from "node:child_process";
import { rm } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Kafka, logLevel } from "kafkajs";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { down, status, up } from "../src/index.ts";
import { isAlive, waitForExit } from "../src/processes.ts";
import { isolatedEnv, reapOrphanedTestEngines } from "./helpers.ts";

const quiet = () => undefined;
const owner = { kind: "test-run" as const, pid: process.pid };
const cleanups: Array<() => Promise<void>> = [];
beforeAll(reapOrphanedTestEngines);
afterAll(async () => {
  for (const c of cleanups) await c();
});

async function query(url: string, sql: string): Promise<unknown[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const result = await client.query<Record<string, unknown>>(sql);
    return result.rows;
  } finally {
    await client.end();
  }
}

describe("up / status / down", () => {
  it("starts real engines, is idempotent, survives SIGKILL of both, and down leaves no process", async () => {
    const env = await isolatedEnv();
    cleanups.push(async () => {
      await down({ env, report: quiet });
      await rm(env.INFRA_DATA_DIR, { recursive: true, force: true });
    });

    const first = await up({ env, report: quiet, owner });
    expect(first).toMatchObject({
      postgres: "started",
      kafka: "started",
      kafkaBrokers: [`127.0.0.1:${env.INFRA_KAFKA_PORT}`],
    });
    await query(
      first.databaseUrl,
      "CREATE TABLE survivor (id int primary key); INSERT INTO survivor VALUES (7)",
    );
    const s1 = await status({ env });
    expect(s1.postgres.running && s1.kafka.running).toBe(true);

    // Idempotent: a second `up` reuses both and starts nothing.
    const second = await up({ env, report: quiet, owner });
    expect(second).toMatchObject({ postgres: "reused", kafka: "reused" });
    expect((await status({ env })).postgres.pid).toBe(s1.postgres.pid);

    // A crash (SIGKILL) leaves stale pid files behind; the next `up` must still work.
    process.kill(s1.postgres.pid!, "SIGKILL");
    process.kill(s1.kafka.pid!, "SIGKILL");
    expect(await waitForExit(s1.postgres.pid!, 10_000)).toBe(true);
    expect(await waitForExit(s1.kafka.pid!, 10_000)).toBe(true);
    const afterCrash = await up({ env, report: quiet, owner });
    expect(afterCrash).toMatchObject({ postgres: "started", kafka: "started" });
    expect(await query(afterCrash.databaseUrl, "SELECT id FROM survivor")).toEqual([{ id: 7 }]);

    // The restarted broker serves clients.
    const kafka = new Kafka({ brokers: afterCrash.kafkaBrokers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    expect((await admin.describeCluster()).brokers).toHaveLength(1);
    await admin.disconnect();

    const s2 = await status({ env });
    const { stopped } = await down({ env, report: quiet });
    expect(stopped.sort()).toEqual(["kafka", "postgres"]);
    expect(isAlive(s2.postgres.pid!)).toBe(false);
    expect(isAlive(s2.kafka.pid!)).toBe(false);
    const s3 = await status({ env });
    expect(s3.postgres.running || s3.kafka.running).toBe(false);
  });

  it("a SIGKILLed test run's engines are adopted and stopped by the next run", async () => {
    const env = await isolatedEnv();
    cleanups.push(async () => {
      await down({ env, report: quiet });
      await rm(env.INFRA_DATA_DIR, { recursive: true, force: true });
    });
    // A child process plays a test run: it brings PostgreSQL up as its owner, then is killed.
    const here = path.dirname(fileURLToPath(import.meta.url));
    const child = spawn(process.execPath, ["--import", "tsx", path.join(here, "fixtures", "test-run.ts")], {
      env,
      stdio: ["ignore", "pipe", "inherit"],
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on("data", (chunk: Buffer) => {
        if (chunk.toString().includes("READY")) resolve();
      });
      child.once("exit", (code) => reject(new Error(`fixture exited early with ${code}`)));
    });
    child.kill("SIGKILL");
    await waitForExit(child.pid!, 10_000);
    const orphan = await status({ env });
    expect(orphan.postgres.running).toBe(true);
    expect(orphan.postgres.owner).toEqual({ kind: "test-run", pid: child.pid });

    const next = await up({ env, report: quiet, owner, only: ["postgres"] });
    expect(next.postgres).toBe("reused");
    expect((await status({ env })).postgres.owner).toEqual(owner);
    expect((await down({ env, report: quiet, owner })).stopped).toEqual(["postgres"]);
    expect(isAlive(orphan.postgres.pid!)).toBe(false);
  });
});
