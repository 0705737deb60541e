/**
 * The Kafka classpath memo (INFRA_CACHE_DIR, machine-wide): what one start resolved with Maven, the
 * next start with any data directory reuses without Maven; a memo naming a jar that is gone is not
 * trusted; a failed resolution leaves nothing behind; a cache folder that cannot be written costs a
 * Maven run, not the start. Maven is a stand-in script here (the network is outside our system): it
 * writes the classpath file Maven's dependency plugin would, or fails after writing half of it.
 */
import { createHash } from "node:crypto";
import { chmod, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
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

/** Two empty jar files, and the classpath naming them. */
async function jars(): Promise<string> {
  const dir = await temp("boxoffice-jars-");
  const files = [path.join(dir, "a.jar"), path.join(dir, "b.jar")];
  for (const file of files) await writeFile(file, "");
  return files.join(path.delimiter);
}

/**
 * A PATH whose `mvn` answers `-v`, and for `dependency:build-classpath` writes `classpath` to its
 * `-Dmdep.outputFile` and exits 0 (`ok`), or writes half of it and exits 1 (`fail`); each run is
 * counted in `<dir>/runs`.
 */
async function fakeMaven(
  mode: "ok" | "fail",
  classpath: string,
): Promise<{ PATH: string; runs: () => Promise<number> }> {
  const dir = await temp("boxoffice-mvn-");
  const script = `#!/bin/sh
[ "$1" = "-v" ] && exit 0
echo run >> "${dir}/runs"
for arg in "$@"; do case "$arg" in -Dmdep.outputFile=*) out="\${arg#-Dmdep.outputFile=}";; esac; done
if [ "${mode}" = ok ]; then printf '%s' '${classpath}' > "$out"; exit 0; fi
printf '%s' 'half' > "$out"; echo "Could not transfer artifact" >&2; exit 1
`;
  await writeFile(path.join(dir, "mvn"), script);
  await chmod(path.join(dir, "mvn"), 0o755);
  return {
    PATH: dir,
    runs: async () =>
      (await readFile(path.join(dir, "runs"), "utf8").catch(() => "")).split("\n").filter(Boolean).length,
  };
}

const quiet = () => undefined;

describe("Kafka classpath memo (INFRA_CACHE_DIR)", () => {
  it("the first resolution runs Maven and writes the memo whole; the next one reuses it without Maven", async () => {
    const cache = await temp("boxoffice-cache-");
    const classpath = await jars();
    const maven = await fakeMaven("ok", classpath);
    expect(await resolveKafkaClasspath(cache, quiet, { PATH: maven.PATH })).toBe(classpath);
    expect(await readdir(cache)).toEqual([await memoName()]);
    expect(await readFile(path.join(cache, await memoName()), "utf8")).toBe(classpath);
    // Without Maven at all now: the memo answers.
    expect(await resolveKafkaClasspath(cache, quiet, { PATH: "/nonexistent" })).toBe(classpath);
    expect(await maven.runs()).toBe(1);
  });

  it("a memo naming a jar that is gone is resolved again", async () => {
    const cache = await temp("boxoffice-cache-");
    await writeFile(path.join(cache, await memoName()), path.join(cache, "gone.jar"));
    const classpath = await jars();
    const maven = await fakeMaven("ok", classpath);
    expect(await resolveKafkaClasspath(cache, quiet, { PATH: maven.PATH })).toBe(classpath);
    expect(await maven.runs()).toBe(1);
    expect(await readFile(path.join(cache, await memoName()), "utf8")).toBe(classpath);
  });

  it("a failed resolution is KAFKA_DOWNLOAD_FAILED with Maven's words and leaves no file behind", async () => {
    const cache = await temp("boxoffice-cache-");
    const maven = await fakeMaven("fail", await jars());
    const error = await resolveKafkaClasspath(cache, quiet, { PATH: maven.PATH }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InfraError);
    expect((error as InfraError).code).toBe("KAFKA_DOWNLOAD_FAILED");
    expect((error as InfraError).message).toContain("Could not transfer artifact");
    expect(await readdir(cache)).toEqual([]);
  });

  it("a cache folder that cannot be written costs a Maven run per start, not the start", async () => {
    const parent = await temp("boxoffice-cache-");
    // A file where the folder would be: mkdir fails, as on a read-only home (root ignores modes).
    const cache = path.join(parent, "not-a-folder");
    await writeFile(cache, "");
    const classpath = await jars();
    const maven = await fakeMaven("ok", classpath);
    expect(await resolveKafkaClasspath(cache, quiet, { PATH: maven.PATH })).toBe(classpath);
    expect(await resolveKafkaClasspath(cache, quiet, { PATH: maven.PATH })).toBe(classpath);
    expect(await maven.runs()).toBe(2);
    expect(await readdir(parent)).toEqual(["not-a-folder"]);
  });
});
