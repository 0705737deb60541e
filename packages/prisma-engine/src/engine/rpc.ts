import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import type * as Wasm from "@prisma/schema-engine-wasm/schema_engine_bg";
import type { BoxofficePgAdapterFactory } from "./adapter.ts";
import { CliCommandError, runCliCommand } from "./cli-commands.ts";
import type { DebugLog } from "./debug-log.ts";
import { webAssembly, type WasmPanicRegistry } from "./wasm.ts";

/** A JSON-RPC 2.0 request from the Prisma CLI (one per stdin line). */
export interface RpcRequest {
  jsonrpc: "2.0";
  id: number | string;
  method: string;
  params?: unknown;
}

/**
 * `error.data` as the Prisma CLI reads it (`SchemaEngineCLI.runCommand` in prisma 7.10's
 * `build/cli.js`): `is_panic` selects the panic path, `error_code` a known `P…` error,
 * otherwise `message` is shown as is.
 */
export interface RpcErrorData {
  is_panic: boolean;
  message: string;
  error_code?: string;
  meta?: unknown;
  backtrace?: string;
}

/** A JSON-RPC 2.0 reply. `result` is never absent on success (`null` for void methods). */
export type RpcResponse =
  | { jsonrpc: "2.0"; id: number | string; result: unknown }
  | { jsonrpc: "2.0"; id: number | string; error: { code: number; message: string; data: RpcErrorData } };

/** Error code the native engine uses for every JSON-RPC error it returns. */
const ENGINE_ERROR = 4466;
const GENERIC_MESSAGE = "An error happened. Check the data field for details.";

function field(value: unknown, name: string): unknown {
  return typeof value === "object" && value !== null ? Reflect.get(value, name) : undefined;
}

/**
 * Converts anything the WASM engine (or our own code) threw into `error.data`.
 * A `WebAssembly.RuntimeError` is a Rust panic: its message comes from the panic registry.
 * A known error carries `.code` (`P3005`, …) and `.meta`.
 */
export function toErrorData(error: unknown, panics: WasmPanicRegistry): RpcErrorData {
  const message =
    error instanceof Error ? error.message : typeof error === "string" ? error : JSON.stringify(error);
  if (error instanceof webAssembly.RuntimeError || field(error, "name") === "RuntimeError") {
    return {
      is_panic: true,
      message: panics.get() ?? message,
      backtrace: error instanceof Error ? error.stack : undefined,
    };
  }
  const code = field(error, "code");
  if (typeof code === "string" && /^P\d{4}$/.test(code)) {
    return { is_panic: false, message, error_code: code, meta: field(error, "meta") ?? null };
  }
  return { is_panic: false, message };
}

/** The engine→CLI `print` request: the CLI writes `content` to stdout and replies `{}`. */
export type Printer = (content: string) => Promise<void>;

/**
 * What one engine remembers between requests: the migration list its shadow-database view of
 * the migration history was last computed for.
 *
 * Why: in schema-engine-wasm 7.10.0, `evaluateDataLoss` and `createMigration` cannot open a
 * shadow database themselves ("PostgreSQL shadow DB must be provided through an external
 * factory"); they work only after `devDiagnostic` has replayed the same migrations on the
 * engine, and applying migrations invalidates that. The CLI's `migrate dev` calls
 * `applyMigrations` between the two, so we replay with `devDiagnostic` first when needed.
 */
export interface DispatchState {
  warmFor: string | undefined;
}

function migrationsKey(params: unknown): string {
  return JSON.stringify(field(params, "migrationsList") ?? null);
}

async function warmUp(engine: Wasm.SchemaEngine, params: unknown, state: DispatchState): Promise<void> {
  const key = migrationsKey(params);
  if (state.warmFor === key) return;
  const input = params as Wasm.EvaluateDataLossInput;
  await engine.devDiagnostic({ migrationsList: input.migrationsList, filters: input.filters });
  state.warmFor = key;
}

/**
 * Forwards one CLI request to the WASM engine.
 *
 * Names match the WASM class except `getDatabaseVersion` (WASM `version`), and
 * `createDatabase`/`getDatabaseDescription`, which WASM lacks (the first is done with `pg`,
 * the second is reported as unsupported). `diff` output goes through `print` and the reply
 * keeps only `{ exitCode }`, as with the native engine. Void methods reply `null`.
 */
export async function dispatch(
  engine: Wasm.SchemaEngine,
  factory: BoxofficePgAdapterFactory,
  request: RpcRequest,
  print: Printer,
  state: DispatchState = { warmFor: undefined },
): Promise<unknown> {
  const params = request.params;
  switch (request.method) {
    case "applyMigrations": {
      const result = await engine.applyMigrations(params as Wasm.ApplyMigrationsInput);
      if (result.appliedMigrationNames.length > 0) state.warmFor = undefined;
      return result;
    }
    case "createMigration":
      await warmUp(engine, params, state);
      return engine.createMigration(params as Wasm.CreateMigrationInput);
    case "dbExecute":
      state.warmFor = undefined;
      await engine.dbExecute(params as Wasm.DbExecuteParams);
      return null;
    case "debugPanic":
      engine.debugPanic();
      return null;
    case "devDiagnostic": {
      const result = await engine.devDiagnostic(params as Wasm.DevDiagnosticInput);
      state.warmFor = migrationsKey(params);
      return result;
    }
    case "diagnoseMigrationHistory":
      return engine.diagnoseMigrationHistory(params as Wasm.DiagnoseMigrationHistoryInput);
    case "diff": {
      const result = await engine.diff(params as Wasm.DiffParams);
      if (result.stdout !== null && result.stdout !== undefined) await print(result.stdout);
      return { exitCode: result.exitCode };
    }
    case "ensureConnectionValidity":
      return engine.ensureConnectionValidity(params as Wasm.EnsureConnectionValidityParams);
    case "evaluateDataLoss":
      await warmUp(engine, params, state);
      return engine.evaluateDataLoss(params as Wasm.EvaluateDataLossInput);
    case "getDatabaseVersion":
      return engine.version((params ?? null) as Wasm.GetDatabaseVersionInput | null);
    case "introspect":
      return engine.introspect(params as Wasm.IntrospectParams);
    case "introspectSql":
      return engine.introspectSql(params as Wasm.IntrospectSqlParams);
    case "markMigrationApplied":
      state.warmFor = undefined;
      return engine.markMigrationApplied(params as Wasm.MarkMigrationAppliedInput);
    case "markMigrationRolledBack":
      state.warmFor = undefined;
      return engine.markMigrationRolledBack(params as Wasm.MarkMigrationRolledBackInput);
    case "reset":
      state.warmFor = undefined;
      await engine.reset(params as Wasm.ResetInput);
      return null;
    case "schemaPush":
      state.warmFor = undefined;
      return engine.schemaPush(params as Wasm.SchemaPushInput);
    case "createDatabase":
      try {
        await runCliCommand("create-database", factory.datasource);
      } catch (error) {
        const code = error instanceof CliCommandError ? error.errorCode : undefined;
        throw Object.assign(new Error(error instanceof Error ? error.message : String(error)), { code });
      }
      return { databaseName: factory.main.database };
    default:
      throw new Error(
        `Method not supported by @boxoffice/prisma-engine (WASM schema engine): ${request.method}`,
      );
  }
}

/** Everything the RPC loop needs; streams are injectable for tests. */
export interface RpcServerOptions {
  engine: Wasm.SchemaEngine;
  factory: BoxofficePgAdapterFactory;
  panics: WasmPanicRegistry;
  log: DebugLog;
  input: Readable;
  output: Writable;
}

/**
 * Serves newline-delimited JSON-RPC 2.0 on `input`/`output` until `input` ends.
 *
 * Requests run one at a time in arrival order (the WASM engine is single-threaded and the
 * CLI waits for each reply anyway). Lines without `method` are replies to our own `print`
 * requests. Resolves after the last reply has been written.
 */
export function serveRpc(options: RpcServerOptions): Promise<void> {
  const { engine, factory, panics, log, input, output } = options;
  const state: DispatchState = { warmFor: undefined };
  const pendingPrints = new Map<number | string, () => void>();
  let nextPrintId = 1;
  let queue: Promise<void> = Promise.resolve();

  const send = (message: unknown): void => {
    const text = JSON.stringify(message);
    log.write("send", text.length > 4000 ? `${text.slice(0, 4000)}…` : text);
    output.write(`${text}\n`);
  };
  const print: Printer = (content) =>
    new Promise<void>((resolve) => {
      const id = `print-${nextPrintId++}`;
      pendingPrints.set(id, resolve);
      send({ jsonrpc: "2.0", id, method: "print", params: { content } });
    });

  const handle = async (request: RpcRequest): Promise<void> => {
    try {
      const result = await dispatch(engine, factory, request, print, state);
      send({ jsonrpc: "2.0", id: request.id, result: result ?? null } satisfies RpcResponse);
    } catch (error) {
      log.write("error", error instanceof Error ? error : String(error));
      const data = toErrorData(error, panics);
      send({
        jsonrpc: "2.0",
        id: request.id,
        // For panics the CLI shows `error.data.error.message ?? error.message`, not `data.message`.
        error: { code: ENGINE_ERROR, message: data.is_panic ? data.message : GENERIC_MESSAGE, data },
      } satisfies RpcResponse);
    }
  };

  return new Promise<void>((resolve) => {
    const lines = createInterface({ input, crlfDelay: Infinity });
    lines.on("line", (line) => {
      if (line.trim() === "") return;
      log.write("recv", line.length > 4000 ? `${line.slice(0, 4000)}…` : line);
      let message: unknown;
      try {
        message = JSON.parse(line);
      } catch {
        send({ jsonrpc: "2.0", id: null, error: { code: -32700, message: "Parse error" } });
        return;
      }
      const id = field(message, "id");
      const method = field(message, "method");
      if (typeof method !== "string") {
        if (typeof id === "string" || typeof id === "number") {
          pendingPrints.get(id)?.();
          pendingPrints.delete(id);
        }
        return;
      }
      if (typeof id !== "string" && typeof id !== "number") return; // a notification: nothing to answer
      const request: RpcRequest = { jsonrpc: "2.0", id, method, params: field(message, "params") };
      queue = queue.then(() => handle(request));
    });
    lines.on("close", () => {
      void queue.then(resolve);
    });
  });
}
