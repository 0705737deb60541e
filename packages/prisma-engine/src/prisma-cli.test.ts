import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "../test/support.ts";
import {
  chooseSchemaEngine,
  nativeEngineSearchDirs,
  prismaCliEnv,
  schemaEngineBinPath,
} from "./prisma-cli.ts";

// "Used through PRISMA_SCHEMA_ENGINE_BINARY whenever the native engine is absent, and never
// when it is present."
describe("choosing the schema engine", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "engine-choice-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("uses our engine when no native engine is installed", async () => {
    const env = await prismaCliEnv({
      env: { PATH: "/usr/bin" },
      searchDirs: [dir],
      binaryTarget: "debian-openssl-3.0.x",
    });
    expect(env["PRISMA_SCHEMA_ENGINE_BINARY"]).toBe(schemaEngineBinPath);
    expect(env["PATH"]).toBe("/usr/bin");
  });

  it("leaves the environment alone when the native engine is present", async () => {
    await writeFile(path.join(dir, "schema-engine-debian-openssl-3.0.x"), "#!/bin/sh\n", { mode: 0o755 });
    const options = {
      env: { PATH: "/usr/bin" },
      searchDirs: ["/nonexistent", dir],
      binaryTarget: "debian-openssl-3.0.x",
    };
    expect(await chooseSchemaEngine(options)).toEqual({
      kind: "native",
      path: path.join(dir, "schema-engine-debian-openssl-3.0.x"),
    });
    expect(await prismaCliEnv(options)).toEqual({ PATH: "/usr/bin" });
  });

  it("honours an engine variable that is already set", async () => {
    const env = { PRISMA_SCHEMA_ENGINE_BINARY: "/opt/engines/schema-engine" };
    expect(await chooseSchemaEngine({ env, searchDirs: [dir] })).toEqual({
      kind: "env",
      variable: "PRISMA_SCHEMA_ENGINE_BINARY",
      path: "/opt/engines/schema-engine",
    });
    expect(await prismaCliEnv({ env, searchDirs: [] })).toEqual(env);
  });

  it("looks where Prisma 7.10 looks: @prisma/engines and the prisma package", () => {
    const dirs = nativeEngineSearchDirs();
    expect(dirs.some((d) => d.endsWith(path.join("@prisma", "engines")))).toBe(true);
    expect(dirs.some((d) => d.endsWith(path.join("node_modules", "prisma")))).toBe(true);
  });

  it("on this machine (no native engine) `boxoffice-prisma -v` reports our engine", async () => {
    const result = await run(
      path.join(path.dirname(schemaEngineBinPath), "boxoffice-prisma.js"),
      ["-v"],
      dir,
    );
    expect(result.code, result.output).toBe(0);
    expect(result.stdout).toMatch(
      /Schema Engine\s*:\s*schema-engine-cli 0edf323efd1d98336f3f0a68684b56f689b900d3/,
    );
    expect(result.stdout).toContain("resolved by PRISMA_SCHEMA_ENGINE_BINARY");
  });
});
