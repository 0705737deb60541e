/**
 * Who may touch the read model: serving storefronts, or one rebuild — never both. A PostgreSQL
 * session-level advisory lock (PostgreSQL docs §13.3.5, "Advisory Locks") on a key of the storefront's
 * database: every running storefront holds it SHARED on a connection of its own for its whole life;
 * the rebuild command takes it EXCLUSIVE for the whole rebuild. PostgreSQL releases a session lock
 * when its connection ends, so a storefront or a rebuild that is killed leaves no stale lock, and the
 * check cannot be raced the way "does the consumer group have members?" could (both sides take the
 * lock atomically before they start).
 */
import pg from "pg";

/** The lock's two-part key: class "STFR" (storefront), object 1 (the read model). */
const LOCK_CLASS = 0x53544652;
const LOCK_OBJECT = 1;

/** Thrown when the other side holds the lock. */
export class ReadModelBusyError extends Error {
  override readonly name = "ReadModelBusyError";
}

/** A held lock: `release()` ends its connection (idempotent). */
export interface ReadModelLock {
  release(): Promise<void>;
}

async function take(
  databaseUrl: string,
  mode: "shared" | "exclusive",
  onLost: (reason: string) => void,
): Promise<ReadModelLock | null> {
  const client = new pg.Client({
    connectionString: databaseUrl,
    application_name: `storefront-read-model-${mode}`,
  });
  await client.connect();
  try {
    const fn = mode === "shared" ? "pg_try_advisory_lock_shared" : "pg_try_advisory_lock";
    const { rows } = await client.query<{ locked: boolean }>(`SELECT ${fn}($1, $2) AS locked`, [
      LOCK_CLASS,
      LOCK_OBJECT,
    ]);
    if (!rows[0]?.locked) {
      await client.end();
      return null;
    }
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
  // A lost connection (database restart, failover, idle timeout, pg_terminate_backend) loses the
  // lock: the holder is told, and must stop doing what the lock protected.
  let released = false;
  let lost = false;
  const lose = (reason: string) => {
    if (released || lost) return;
    lost = true;
    onLost(reason);
  };
  client.on("error", (error) => lose(error.message));
  client.on("end", () => lose("the lock's connection ended"));
  return {
    async release() {
      if (released) return;
      released = true;
      await client.end().catch(() => undefined);
    },
  };
}

/**
 * Taken by a starting storefront (shared with its other replicas). `onLost` is called (once) if the
 * lock's connection is lost: from then on a rebuild may start, so the storefront must stop serving.
 * @throws ReadModelBusyError while a rebuild holds the lock.
 */
export async function lockForServing(
  databaseUrl: string,
  onLost: (reason: string) => void,
): Promise<ReadModelLock> {
  const lock = await take(databaseUrl, "shared", onLost);
  if (!lock) {
    throw new ReadModelBusyError(
      "a rebuild of the storefront read model is running: start the storefront when it has finished",
    );
  }
  return lock;
}

/**
 * Taken by the rebuild command; retried every second for up to `waitMs` (a storefront being stopped
 * releases it when its connection closes). `onLost` as for `lockForServing`: the rebuild must stop.
 * @throws ReadModelBusyError when a storefront (or another rebuild) still holds it after `waitMs`.
 */
export async function lockForRebuild(
  databaseUrl: string,
  waitMs: number,
  onLost: (reason: string) => void = () => undefined,
): Promise<ReadModelLock> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const lock = await take(databaseUrl, "exclusive", onLost);
    if (lock) return lock;
    if (Date.now() >= deadline) {
      throw new ReadModelBusyError(
        "the storefront is running (or another rebuild is): stop it, then run the rebuild again",
      );
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}
