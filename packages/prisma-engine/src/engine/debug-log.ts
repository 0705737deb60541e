import { appendFileSync } from "node:fs";

/**
 * Environment variable that switches the engine's debug log on: a file path the engine
 * appends one line per event to (argv, every request and reply, stderr log lines, errors
 * with stacks, exit). The Prisma CLI swallows the engine's stderr (and, when the engine dies
 * at start, prints only the datasource line), so a file is the only reliable witness
 * (pitfall 8).
 */
export const DEBUG_LOG_ENV = "BOXOFFICE_SCHEMA_ENGINE_DEBUG_LOG";

/** Masks the password of every `scheme://user:password@` in `text`. */
export function redact(text: string): string {
  return text.replace(/(\w+:\/\/[^:/@\s"]*:)[^@\s"]*@/g, "$1****@");
}

/** A synchronous line logger (synchronous so that a crash still leaves its trace). */
export interface DebugLog {
  readonly enabled: boolean;
  write(kind: string, detail: unknown): void;
}

/**
 * Creates the debug log from `env[DEBUG_LOG_ENV]`; a no-op logger when unset or empty.
 * Never throws: a log file that cannot be written must not break a migration.
 */
export function createDebugLog(env: NodeJS.ProcessEnv = process.env): DebugLog {
  const file = env[DEBUG_LOG_ENV];
  if (file === undefined || file === "") return { enabled: false, write: () => undefined };
  return {
    enabled: true,
    write(kind: string, detail: unknown): void {
      const text =
        detail instanceof Error
          ? (detail.stack ?? detail.message)
          : typeof detail === "string"
            ? detail
            : JSON.stringify(detail);
      try {
        appendFileSync(
          file,
          `${new Date().toISOString()} pid=${process.pid} ${kind} ${redact(text ?? "")}\n`,
        );
      } catch {
        // Logging is best effort by design.
      }
    },
  };
}
