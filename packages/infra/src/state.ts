import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import lockfile from "proper-lockfile";
import { z } from "zod";
import { InfraError } from "./errors.ts";

/**
 * Who started an engine: the CLI (`up`, kept until `down`), or a run that stops what it started
 * when it ends — a test run (vitest global setup) or the platform's start command.
 */
export interface Ownership {
  /** `cli` for `boxoffice-infra up`; `test-run` for a vitest global setup; `platform` for `pnpm start`. */
  kind: "cli" | "test-run" | "platform";
  /** The owning process; for a run (not `cli`), a dead owner means it was killed: its engines may be adopted. */
  pid: number;
}

/** One engine this launcher started, as recorded in `<dataDir>/infra.json`. */
export interface EngineRecord {
  pid: number;
  port: number;
  startedAt: string;
  owner: Ownership;
}

/** The launcher's state file: only engines it started itself appear here. */
export interface InfraState {
  postgres?: EngineRecord;
  kafka?: EngineRecord;
}

const stateFile = (dataDir: string) => path.join(dataDir, "infra.json");

/** Reads the state file; a missing or unreadable file is an empty state (a killed run may leave either). */
export async function readState(dataDir: string): Promise<InfraState> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(stateFile(dataDir), "utf8"));
  } catch {
    return {};
  }
  // A hand-edited or truncated file must not crash the CLI: keep only well-formed records.
  const state: InfraState = {};
  if (typeof raw !== "object" || raw === null) return state;
  for (const engine of ["postgres", "kafka"] as const) {
    const parsed = engineRecordSchema.safeParse((raw as Record<string, unknown>)[engine]);
    if (parsed.success) state[engine] = parsed.data;
  }
  return state;
}

const engineRecordSchema = z.object({
  pid: z.number().int().positive(),
  port: z.number().int(),
  startedAt: z.string(),
  owner: z.object({ kind: z.enum(["cli", "test-run", "platform"]), pid: z.number().int().nonnegative() }),
});

/** Writes the state file atomically (write then rename), so a crash never leaves half a file. */
export async function writeState(dataDir: string, state: InfraState): Promise<void> {
  await mkdir(dataDir, { recursive: true });
  const tmp = `${stateFile(dataDir)}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(state, null, 2));
  await rename(tmp, stateFile(dataDir));
}

/**
 * Runs `fn` while holding the launcher's lock (`<dataDir>/infra.lock`, proper-lockfile). A lock
 * left by a killed process goes stale after 10 s without updates and is taken over, so a
 * SIGKILLed run never blocks the next one.
 *
 * @throws InfraError `LOCKED` when another live launcher holds it for longer than ~3 minutes.
 */
export async function withLock<T>(dataDir: string, fn: () => Promise<T>): Promise<T> {
  await mkdir(dataDir, { recursive: true });
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(dataDir, {
      lockfilePath: path.join(dataDir, "infra.lock"),
      stale: 10_000,
      update: 2_000,
      retries: { retries: 180, factor: 1, minTimeout: 1000, maxTimeout: 1000 },
    });
  } catch (error) {
    throw new InfraError(
      "LOCKED",
      `Another boxoffice-infra command is still running against ${dataDir} (lock held). Wait for it to finish, or stop it; a lock left by a killed process expires by itself after 10 seconds.`,
      { cause: error },
    );
  }
  try {
    return await fn();
  } finally {
    await release().catch(() => undefined);
  }
}
