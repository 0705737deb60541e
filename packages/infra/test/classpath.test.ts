/**
 * The Kafka classpath memo is machine-wide (INFRA_CACHE_DIR): a broker started with a new data
 * directory reuses what an earlier start resolved and does not run Maven; a memo naming a jar that is
 * gone is not trusted. Maven is kept off PATH here, so any Maven run shows as MAVEN_MISSING.
 */
import { createHash } from "node:crypto";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { InfraError } from "../src/index.ts";
import { KAFKA_POM, resolveKafkaClasspath } from "../src/kafka.ts";

const temps: string[] = [];
afterAll(async () => {
  for (const t of temps) await rm(t, { recursive: true, force: true });
});

async function temp(prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
}

/** `kafka-classpath-<first 12 hex of the pom's sha-256>.txt`, as documented on resolveKafkaClasspath. */
async function memoName(): Promise<string> {
  const hash = createHash("sha256")
    .update(await readFile(KAFKA_POM))
    .digest("hex")
    .slice(0, 12);
  return `kafka-classpath-${hash}.txt`;
}

const noMaven = { PATH: "/nonexistent" };
const quiet = () => undefined;

describe("Kafka classpath memo (INFRA_CACHE_DIR)", () => {
  it("a memo whose jars all exist is used as it is, without Maven", async () => {
    const cache = await temp("boxoffice-cache-");
    const jars = await temp("boxoffice-jars-");
    const [a, b] = [path.join(jars, "a.jar"), path.join(jars, "b.jar")];
    await writeFile(a, "");
    await writeFile(b, "");
    // Cold and without Maven: refused, and nothing half-written is left behind.
    const cold = await resolveKafkaClasspath(cache, quiet, noMaven).catch((e: unknown) => e);
    expect(cold).toBeInstanceOf(InfraError);
    expect((cold as InfraError).code).toBe("MAVEN_MISSING");
    expect(await readdir(cache)).toEqual([]);

    await writeFile(path.join(cache, await memoName()), `${a}${path.delimiter}${b}\n`);
    expect(await resolveKafkaClasspath(cache, quiet, noMaven)).toBe(`${a}${path.delimiter}${b}`);
  });

  it("a memo naming a jar that is gone is resolved again (here Maven is missing, so it says so)", async () => {
    const cache = await temp("boxoffice-cache-");
    await writeFile(path.join(cache, await memoName()), path.join(cache, "gone.jar"));
    const error = await resolveKafkaClasspath(cache, quiet, noMaven).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InfraError);
    expect((error as InfraError).code).toBe("MAVEN_MISSING");
  });
});
