import { chmod, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { afterAll, describe, expect, it } from "vitest";
import { InfraError, status, up } from "../src/index.ts";
import { isolatedEnv } from "./helpers.ts";

const quiet = () => undefined;
const temps: string[] = [];
afterAll(async () => {
  for (const t of temps) await rm(t, { recursive: true, force: true });
});

/** A PATH holding only the named tools (symlinks to the real ones), to simulate a machine without the others. */
async function pathWith(tools: string[]): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "boxoffice-path-"));
  temps.push(dir);
  for (const tool of tools) {
    const real = execFileSync("sh", ["-c", `command -v ${tool}`])
      .toString()
      .trim();
    await symlink(real, path.join(dir, tool));
  }
  return dir;
}

/** An empty INFRA_CACHE_DIR: no memoised Kafka classpath, as on a machine's first start. */
async function coldCache(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "boxoffice-cache-"));
  temps.push(dir);
  return dir;
}

async function rejection(promise: Promise<unknown>): Promise<InfraError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InfraError);
  return error as InfraError;
}

describe("actionable start-up errors", () => {
  it("a port taken by another program is named, with what to do, and nothing is started", async () => {
    const env = await isolatedEnv();
    temps.push(env.INFRA_DATA_DIR);
    const port = Number(env.INFRA_POSTGRES_PORT);
    const squatter = net.createServer().listen(port, "127.0.0.1");
    await new Promise((r) => squatter.once("listening", r));
    try {
      const error = await rejection(up({ env, report: quiet, only: ["postgres"] }));
      expect(error.code).toBe("PORT_IN_USE");
      expect(error.message).toMatch(new RegExp(`${port}.*INFRA_POSTGRES_PORT.*DATABASE_URL`, "s"));
      expect((await status({ env })).postgres.running).toBe(false);
    } finally {
      squatter.close();
    }
  });

  it("no java on PATH: says to install Java 17+, set KAFKA_BROKERS, or use docker compose", async () => {
    const env = await isolatedEnv({ PATH: await pathWith(["mvn"]) });
    temps.push(env.INFRA_DATA_DIR);
    const error = await rejection(up({ env, report: quiet, only: ["kafka"] }));
    expect(error.code).toBe("JAVA_MISSING");
    expect(error.message).toMatch(/Java 17.*KAFKA_BROKERS.*docker compose/s);
  });

  it("java too old is refused with the version found", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "boxoffice-oldjava-"));
    temps.push(dir);
    await writeFile(path.join(dir, "java"), `#!/bin/sh\necho 'openjdk version "11.0.2" 2019-01-15' >&2\n`);
    await chmod(path.join(dir, "java"), 0o755);
    const env = await isolatedEnv({ PATH: dir });
    temps.push(env.INFRA_DATA_DIR);
    const error = await rejection(up({ env, report: quiet, only: ["kafka"] }));
    expect(error.code).toBe("JAVA_TOO_OLD");
    expect(error.message).toMatch(/Java 11 .*Java 17/);
  });

  it("no Maven on PATH (and no cached classpath): says to install Maven or set KAFKA_BROKERS", async () => {
    const env = await isolatedEnv({ PATH: await pathWith(["java"]), INFRA_CACHE_DIR: await coldCache() });
    temps.push(env.INFRA_DATA_DIR);
    const error = await rejection(up({ env, report: quiet, only: ["kafka"] }));
    expect(error.code).toBe("MAVEN_MISSING");
    expect(error.message).toMatch(/Maven.*KAFKA_BROKERS/s);
  });

  it("a failed download is reported with Maven's words and the ways out", async () => {
    // The network is outside our system: an empty local repository and a mirror on a closed
    // loopback port stand in for a machine that cannot reach Maven Central.
    const repo = await mkdtemp(path.join(tmpdir(), "boxoffice-m2-"));
    temps.push(repo);
    const settings = path.join(repo, "settings.xml");
    await writeFile(
      settings,
      `<settings><localRepository>${repo}/repository</localRepository><mirrors><mirror><id>unreachable</id><mirrorOf>*</mirrorOf><url>http://127.0.0.1:9/maven2</url></mirror></mirrors></settings>`,
    );
    const env = await isolatedEnv({ INFRA_MAVEN_ARGS: `-s ${settings}`, INFRA_CACHE_DIR: await coldCache() });
    temps.push(env.INFRA_DATA_DIR);
    const error = await rejection(up({ env, report: quiet, only: ["kafka"] }));
    expect(error.code).toBe("KAFKA_DOWNLOAD_FAILED");
    expect(error.message).toMatch(/Maven Central.*KAFKA_BROKERS.*docker compose/s);
  });

  it("a cluster from another PostgreSQL major version is refused with what to do, never deleted", async () => {
    const env = await isolatedEnv();
    temps.push(env.INFRA_DATA_DIR);
    const cluster = path.join(env.INFRA_DATA_DIR, "postgres");
    await mkdir(cluster, { recursive: true });
    await writeFile(path.join(cluster, "PG_VERSION"), "16\n");
    const error = await rejection(up({ env, report: quiet, only: ["postgres"] }));
    expect(error.code).toBe("DATA_VERSION_MISMATCH");
    expect(error.message).toMatch(/PostgreSQL 16.*PostgreSQL 17.*delete/s);
    expect(await readFile(path.join(cluster, "PG_VERSION"), "utf8")).toBe("16\n");
  });

  it("a corrupt or hand-edited state file does not crash status", async () => {
    const env = await isolatedEnv();
    temps.push(env.INFRA_DATA_DIR);
    for (const content of ["null", "{not json", JSON.stringify({ postgres: { pid: 1 }, kafka: "x" })]) {
      await writeFile(path.join(env.INFRA_DATA_DIR, "infra.json"), content);
      const s = await status({ env });
      expect(s.postgres.running || s.kafka.running).toBe(false);
    }
  });

  it("invalid configuration lists every bad variable at once", async () => {
    const env = await isolatedEnv({ INFRA_POSTGRES_PORT: "80", KAFKA_BROKERS: "not a broker" });
    temps.push(env.INFRA_DATA_DIR);
    const error = await up({ env, report: quiet }).catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toContain("INFRA_POSTGRES_PORT");
    expect((error as Error).message).toContain("KAFKA_BROKERS");
  });
});
