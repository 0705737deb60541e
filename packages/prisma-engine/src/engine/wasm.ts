import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import * as bg from "@prisma/schema-engine-wasm/schema_engine_bg";
import type { SchemaEngine } from "@prisma/schema-engine-wasm/schema_engine_bg";

export type { SchemaEngine };

/**
 * The registry Prisma's WASM modules write a panic message into before they trap
 * (`global.PRISMA_WASM_PANIC_REGISTRY.set_message(...)` in `schema_engine_bg.js`).
 * Without it a panic turns into `TypeError: Cannot read properties of undefined`
 * and the real message is lost (pitfall 6 in the package README).
 */
export interface WasmPanicRegistry {
  set_message(message: string): void;
  get(): string | undefined;
}

declare global {
  var PRISMA_WASM_PANIC_REGISTRY: WasmPanicRegistry | undefined;
}

/**
 * Installs `globalThis.PRISMA_WASM_PANIC_REGISTRY` once (idempotent) and returns it.
 * `get()` returns the message of the latest panic, or `undefined` if none happened.
 */
export function installPanicRegistry(): WasmPanicRegistry {
  if (globalThis.PRISMA_WASM_PANIC_REGISTRY === undefined) {
    let last: string | undefined;
    globalThis.PRISMA_WASM_PANIC_REGISTRY = {
      set_message(message: string): void {
        last = `RuntimeError: ${message}`;
      },
      get(): string | undefined {
        return last;
      },
    };
  }
  return globalThis.PRISMA_WASM_PANIC_REGISTRY;
}

/**
 * The part of the `WebAssembly` global this package uses. TypeScript declares `WebAssembly`
 * only in the DOM lib, which a Node package must not pull in.
 */
export interface WebAssemblyApi {
  instantiate(
    bytes: Uint8Array,
    imports: Record<string, object>,
  ): Promise<{ instance: { exports: Record<string, unknown> } }>;
  RuntimeError: abstract new (...args: never[]) => Error;
}

/** `globalThis.WebAssembly`, typed by {@link WebAssemblyApi}. */
export const webAssembly: WebAssemblyApi = (globalThis as unknown as { WebAssembly: WebAssemblyApi })
  .WebAssembly;

let loaded: Promise<typeof bg> | undefined;

/**
 * Loads and starts `@prisma/schema-engine-wasm` once per process.
 *
 * The package's ESM entry does `import * as wasm from "./schema_engine_bg.wasm"`, which
 * Node cannot load, so this instantiates the `.wasm` file by hand with the JS glue as its
 * import object (the wasm-bindgen "bundler" target layout), then runs `__wbindgen_start`.
 *
 * @returns the JS glue module whose `SchemaEngine.new(...)` is ready to call.
 * @throws if the `.wasm` file is missing or fails to compile.
 */
export function loadSchemaEngineWasm(): Promise<typeof bg> {
  loaded ??= (async () => {
    installPanicRegistry();
    const require = createRequire(import.meta.url);
    const glue = require.resolve("@prisma/schema-engine-wasm/schema_engine_bg");
    const bytes = await readFile(path.join(path.dirname(glue), "schema_engine_bg.wasm"));
    const { instance } = await webAssembly.instantiate(bytes, { "./schema_engine_bg.js": bg });
    bg.__wbg_set_wasm(instance.exports);
    const start = instance.exports["__wbindgen_start"];
    if (typeof start !== "function") throw new Error("schema_engine_bg.wasm has no __wbindgen_start export");
    (start as () => void)();
    return bg;
  })();
  return loaded;
}
