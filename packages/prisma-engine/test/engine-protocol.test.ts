import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createDatabase,
  createProject,
  databaseUrl,
  dropDatabases,
  engineBin,
  prisma,
  run,
  sql,
  uniqueName,
  urlFor,
  type Project,
} from "./support.ts";

// The engine executable on its own, spoken to exactly as the Prisma CLI does
// (argv, newline-delimited JSON-RPC on stdio, JSON log lines on stderr).
const database = uniqueName("proto");
const SCHEMA = "proto";

interface RpcReply {
  id: number | string;
  result?: unknown;
  error?: {
    code: number;
    message: string;
    data: { is_panic: boolean; message: string; error_code?: string };
  };
  method?: string;
  params?: { content?: string };
}

/** Starts the engine in RPC mode and returns a `call` function plus the collected stderr. */
function startEngine(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [engineBin, ...args], {
    env: { ...process.env, RUST_LOG: "info", ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
  const waiting = new Map<number | string, (reply: RpcReply) => void>();
  const printed: string[] = [];
  createInterface({ input: child.stdout }).on("line", (line) => {
    const reply = JSON.parse(line) as RpcReply;
    if (reply.method === "print") {
      printed.push(reply.params?.content ?? "");
      child.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", id: reply.id, result: {} })}\n`);
      return;
    }
    waiting.get(reply.id)?.(reply);
  });
  let nextId = 1;
  return {
    printed,
    stderr: () => stderr,
    call(method: string, params?: unknown): Promise<RpcReply> {
      const id = nextId++;
      return new Promise((resolve) => {
        waiting.set(id, resolve);
        child.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", id, method, params })}\n`);
      });
    },
    stop(): Promise<number | null> {
      return new Promise((resolve) => {
        child.on("close", (code) => resolve(code));
        child.stdin.end();
      });
    },
  };
}

const datasourceArg = (db: string, schema?: string) => JSON.stringify({ url: urlFor(db, schema) });
const noFilters = { externalTables: [], externalEnums: [] };

beforeAll(async () => {
  databaseUrl();
  await createDatabase(database);
});
afterAll(async () => {
  await dropDatabases(database, `${database}_new`);
});

describe("schema-engine executable", () => {
  it("--version names the engine build the CLI expects", async () => {
    const result = await run(engineBin, ["--version"], os.tmpdir());
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe("schema-engine-cli 0edf323efd1d98336f3f0a68684b56f689b900d3");
  });

  it("cli can-connect-to-database: exit 0, or P1003 as the CLI parses it (first stderr line dropped)", async () => {
    const ok = await run(
      engineBin,
      ["--datasource", datasourceArg(database), "cli", "can-connect-to-database"],
      os.tmpdir(),
    );
    expect(ok.code).toBe(0);

    const missing = await run(
      engineBin,
      ["--datasource", datasourceArg(`${database}_new`), "cli", "can-connect-to-database"],
      os.tmpdir(),
    );
    expect(missing.code).not.toBe(0);
    const lines = missing.stderr
      .trimEnd()
      .split(/\r?\n/)
      .slice(1)
      .map((l) => JSON.parse(l) as unknown);
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: "ERROR",
        target: "schema_engine::logger",
        fields: expect.objectContaining({ error_code: "P1003" }) as unknown,
      }),
    );
  });

  it("cli create-database creates it", async () => {
    const created = await run(
      engineBin,
      ["--datasource", datasourceArg(`${database}_new`), "cli", "create-database"],
      os.tmpdir(),
    );
    expect(created.code, created.stderr).toBe(0);
    const rows = await sql(undefined, "SELECT 1 FROM pg_database WHERE datname = $1", [`${database}_new`]);
    expect(rows).toHaveLength(1);
  });

  it("void methods reply result null; getDatabaseVersion; diff output goes through print", async () => {
    const engine = startEngine(["--datasource", datasourceArg(database, SCHEMA)]);
    const version = await engine.call("getDatabaseVersion");
    expect(version.result).toMatch(/PostgreSQL 1\d/);

    const executed = await engine.call("dbExecute", {
      datasourceType: { tag: "url", url: urlFor(database, SCHEMA) },
      script: `CREATE SCHEMA IF NOT EXISTS ${SCHEMA}; CREATE TABLE ${SCHEMA}.probe (note text);`,
    });
    expect(executed).toEqual({ jsonrpc: "2.0", id: 2, result: null });

    const diff = await engine.call("diff", {
      from: { tag: "empty" },
      to: {
        tag: "schemaDatamodel",
        files: [
          {
            path: "schema.prisma",
            content: 'datasource db {\n provider = "postgresql"\n}\nmodel A {\n id Int @id\n}\n',
          },
        ],
      },
      script: true,
      exitCode: true,
      filters: noFilters,
    });
    expect(diff.result).toEqual({ exitCode: 2 });
    expect(engine.printed.join("")).toContain('CREATE TABLE "A"');
    expect(await engine.stop()).toBe(0);
  });

  it('describes a "char" column (pitfall 1): adapter-pg alone cannot deserialize OID 18', async () => {
    await sql(
      database,
      `CREATE TABLE ${SCHEMA}.flags (id int PRIMARY KEY, kind "char" NOT NULL DEFAULT 'a')`,
    );
    const engine = startEngine(["--datasource", datasourceArg(database, SCHEMA)]);
    const pulled = await engine.call("introspect", {
      schema: {
        files: [{ path: "schema.prisma", content: 'datasource db {\n provider = "postgresql"\n}\n' }],
      },
      baseDirectoryPath: os.tmpdir(),
      force: false,
      compositeTypeDepth: -1,
      namespaces: null,
    });
    await engine.stop();
    expect(pulled.error).toBeUndefined();
    const text = JSON.stringify(pulled.result);
    expect(text).toMatch(/model flags \{[^}]*kind/);
  });

  it("reports a Rust panic with its message from PRISMA_WASM_PANIC_REGISTRY (pitfall 6)", async () => {
    const engine = startEngine(["--datasource", datasourceArg(database, SCHEMA)]);
    const reply = await engine.call("debugPanic");
    engine.stop().catch(() => undefined);
    expect(reply.error?.data.is_panic).toBe(true);
    expect(reply.error?.data.message).toMatch(/panic/i);
    expect(reply.error?.data.message).not.toMatch(/undefined/);
  });

  it("a start-up crash leaves a JSON ERROR line and, with the debug switch, a trace file (pitfall 8)", async () => {
    const logFile = path.join(os.tmpdir(), `${uniqueName("enginelog")}.log`);
    const result = await run(
      engineBin,
      ["--datamodels", "/nonexistent/schema.prisma", "--datasource", datasourceArg(database)],
      os.tmpdir(),
      { BOXOFFICE_SCHEMA_ENGINE_DEBUG_LOG: logFile },
    );
    expect(result.code).toBe(1);
    const line = JSON.parse(result.stderr.trim().split("\n").at(-1) ?? "{}") as {
      level?: string;
      fields?: { message?: string };
    };
    expect(line.level).toBe("ERROR");
    expect(line.fields?.message).toMatch(/ENOENT.*nonexistent/);
    const log = await readFile(logFile, "utf8");
    expect(log).toMatch(/ argv \[.*--datamodels/);
    expect(log).toMatch(/ fatal .*ENOENT/);
  });
});

describe("the Prisma CLI with the engine", () => {
  let project: Project;
  beforeAll(async () => {
    project = await createProject("proto", "model Probe {\n  id Int @id\n}\n");
  });
  afterAll(async () => {
    await project.remove();
  });

  it("shows the panic message when the engine panics (FORCE_PANIC_SCHEMA_ENGINE)", async () => {
    const result = await prisma(project, ["migrate", "status"], urlFor(database, SCHEMA), {
      FORCE_PANIC_SCHEMA_ENGINE: "1",
    });
    expect(result.code).not.toBe(0);
    expect(result.output).toMatch(/panic/i);
    expect(result.output).not.toMatch(/Cannot read properties of undefined/);
  });

  it("with the debug switch every request and reply of a CLI run is traced (pitfall 8)", async () => {
    const logFile = path.join(project.dir, "trace.log");
    const result = await prisma(project, ["migrate", "status"], urlFor(database, SCHEMA), {
      BOXOFFICE_SCHEMA_ENGINE_DEBUG_LOG: logFile,
    });
    expect(result.output).toContain("No migration found in prisma/migrations");
    const log = await readFile(logFile, "utf8");
    expect(log).toMatch(/ recv \{.*"method":"diagnoseMigrationHistory"/);
    expect(log).toMatch(/ send \{.*"result"/);
  });
});
