import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { parseArgs } from "node:util";
import { BoxofficePgAdapterFactory } from "./adapter.ts";
import { CliCommandError, runCliCommand } from "./cli-commands.ts";
import { parseDatasource, type DatasourceConfig } from "./datasource.ts";
import { createDebugLog, type DebugLog } from "./debug-log.ts";
import { logLine } from "./log-line.ts";
import { serveRpc } from "./rpc.ts";
import { installPanicRegistry, loadSchemaEngineWasm } from "./wasm.ts";

/** Streams `main` talks through; the real process streams by default, injectable for tests. */
export interface EngineIo {
  stdin: NodeJS.ReadableStream & import("node:stream").Readable;
  stdout: import("node:stream").Writable;
  stderr: import("node:stream").Writable;
  env: NodeJS.ProcessEnv;
}

const USAGE = `Usage: schema-engine [--datamodels <file>]... [--datasource <json>] [cli <command>]

A drop-in replacement for Prisma's native schema-engine, backed by @prisma/schema-engine-wasm
and @prisma/adapter-pg (PostgreSQL only).

Without "cli": serve newline-delimited JSON-RPC 2.0 on stdin/stdout (what the Prisma CLI does).
Commands: cli can-connect-to-database | cli create-database
Options:  --version  --help  --enabled-preview-features <a,b>  --extension-types <json>
Debug:    BOXOFFICE_SCHEMA_ENGINE_DEBUG_LOG=<file> appends a trace of every run to <file>.`;

/**
 * The engine build this executable stands in for: the commit hash in the version of
 * `@prisma/schema-engine-wasm` (`7.10.0-4.<hash>`), which is the build Prisma CLI 7.10.0 names.
 */
export async function engineCommitHash(): Promise<string> {
  const require = createRequire(import.meta.url);
  const glue = require.resolve("@prisma/schema-engine-wasm/schema_engine_bg");
  const pkg: unknown = JSON.parse(await readFile(path.join(path.dirname(glue), "package.json"), "utf8"));
  const version: unknown = typeof pkg === "object" && pkg !== null ? Reflect.get(pkg, "version") : undefined;
  return typeof version === "string" ? (/([0-9a-f]{40})$/.exec(version)?.[1] ?? version) : "unknown";
}

/**
 * Runs the engine with `argv` (without `node` and the script path) and resolves to the
 * process exit code. RPC mode resolves when stdin closes.
 *
 * Exit codes: 0 success, 1 failure (an ERROR log line on stderr says why), 2 bad usage.
 * Sources: the native engine's argv and stdio contract as used by prisma 7.10's
 * `build/cli.js` (`SchemaEngineCLI.internalInit`, `canConnectToDatabase`, `createDatabase`).
 */
export async function main(
  argv: string[],
  io: EngineIo,
  log: DebugLog = createDebugLog(io.env),
): Promise<number> {
  log.write("argv", JSON.stringify(argv));
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      datamodels: { type: "string", multiple: true },
      datasource: { type: "string" },
      "enabled-preview-features": { type: "string" },
      "extension-types": { type: "string" },
      version: { type: "boolean", short: "V" },
      help: { type: "boolean", short: "h" },
    },
  });

  if (values.version) {
    io.stdout.write(`schema-engine-cli ${await engineCommitHash()}\n`);
    return 0;
  }
  if (values.help) {
    io.stdout.write(`${USAGE}\n`);
    return 0;
  }

  const datasource: DatasourceConfig | undefined =
    values.datasource === undefined ? undefined : parseDatasource(values.datasource);

  if (positionals[0] === "cli") {
    // The Prisma CLI drops the first stderr line of a sub-command and JSON-parses the rest.
    io.stderr.write(`${logLine("INFO", `Starting schema engine CLI: ${positionals[1] ?? ""}`)}\n`);
    if (datasource === undefined) throw new Error("cli sub-commands need --datasource");
    try {
      const message = await runCliCommand(positionals[1] ?? "", datasource);
      io.stdout.write(`${message}\n`);
      log.write("cli-ok", message);
      return 0;
    } catch (error) {
      if (!(error instanceof CliCommandError)) throw error;
      const extra = error.errorCode === undefined ? {} : { error_code: error.errorCode };
      io.stderr.write(`${logLine("ERROR", error.message, extra)}\n`);
      log.write("cli-error", `${error.errorCode ?? "-"} ${error.message}`);
      return 1;
    }
  }
  if (positionals.length > 0) {
    io.stderr.write(`${USAGE}\n`);
    return 2;
  }

  const datamodels: [string, string][] = await Promise.all(
    (values.datamodels ?? []).map(async (file): Promise<[string, string]> => [
      file,
      await readFile(file, "utf8"),
    ]),
  );
  const panics = installPanicRegistry();
  const wasm = await loadSchemaEngineWasm();
  const factory = new BoxofficePgAdapterFactory(datasource, (event) => log.write("adapter", event));
  const { bindMigrationAwareSqlAdapterFactory } = await import("@prisma/driver-adapter-utils");
  const onLog = (line: unknown): void => {
    const text = (typeof line === "string" ? line : JSON.stringify(line)).trimEnd();
    log.write("engine-log", text);
    io.stderr.write(`${text}\n`);
  };
  const engine = await wasm.SchemaEngine.new(
    // The CLI sends no --datamodels for e.g. `migrate diff --to-schema` (schemas travel in the
    // request); an empty list makes the WASM constructor panic, `undefined` is its "none".
    { datamodels: datamodels.length > 0 ? datamodels : undefined },
    onLog,
    bindMigrationAwareSqlAdapterFactory(factory),
  );
  log.write(
    "ready",
    `datamodels=${datamodels.length} schema=${datasource ? (factory.main.schema ?? "(default)") : "-"}`,
  );
  await serveRpc({ engine, factory, panics, log, input: io.stdin, output: io.stdout });
  log.write("stdin-closed", "exiting");
  return 0;
}
