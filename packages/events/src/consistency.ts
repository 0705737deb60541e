/**
 * Read-your-writes across services.
 *
 * A replica lags its source by the event path (outbox → relay → Kafka → consumer: milliseconds
 * normally, longer under load or during an outage). Two tools let a service answer honestly
 * instead of "does not exist":
 *
 * - A consistency token names what a write produced: `<aggregateType>:<aggregateId>:<version>`,
 *   e.g. `order:0193b1c2-…:1` (the aggregate's version after the write; one event per version, so
 *   "the replica holds version ≥ v" means "the replica has applied that write"). A read model given
 *   a token waits, bounded, until it holds that version, else answers a retryable "not yet".
 * - Ids are UUIDv7 (RFC 9562 §5.7): their first 48 bits are the creation time in Unix ms. An id the
 *   replica has not seen, created within `arrivalWindowMs`, may still be in flight: wait briefly,
 *   then say "not yet" (retryable) rather than NOT_FOUND. An older (or non-v7) id is really unknown.
 */
import { EventsConfigError } from "./errors.ts";

/** What a write produced: the aggregate and its version after the write. */
export interface ConsistencyToken {
  aggregateType: string;
  aggregateId: string;
  /** Positive integer. */
  version: number;
}

const TOKEN = /^([a-z][a-z0-9_-]{0,39}):([A-Za-z0-9_-]{1,100}):([1-9][0-9]{0,14})$/;

/** `<aggregateType>:<aggregateId>:<version>`, e.g. `order:0193b1c2-…:2`. */
export function formatConsistencyToken(token: ConsistencyToken): string {
  return `${token.aggregateType}:${token.aggregateId}:${token.version}`;
}

/**
 * Parses a token made by `formatConsistencyToken`.
 *
 * @returns the token, or `undefined` when `raw` is not one (callers answer BAD_USER_INPUT).
 */
export function parseConsistencyToken(raw: string): ConsistencyToken | undefined {
  const match = TOKEN.exec(raw);
  if (!match) return undefined;
  const [, aggregateType = "", aggregateId = "", version = "0"] = match;
  return { aggregateType, aggregateId: aggregateId.toLowerCase(), version: Number(version) };
}

/** The creation time (Unix ms) of a UUIDv7, or `undefined` for any other string. */
export function uuidv7Time(id: string): number | undefined {
  const hex = id.toLowerCase();
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(hex)) return undefined;
  return parseInt(hex.slice(0, 8) + hex.slice(9, 13), 16);
}

/** Default for `arrivalWindowMs`: 5 minutes, far beyond the event path's normal lag. */
export const DEFAULT_ARRIVAL_WINDOW_MS = 300_000;
/** Default bound of a read-your-writes wait, ms. */
export const DEFAULT_REPLICA_WAIT_MS = 2_000;

/**
 * Whether an id the replica lacks may still arrive: a UUIDv7 created less than `windowMs` ago (a
 * minute of clock skew into the future allowed).
 */
export function mayStillArrive(id: string, windowMs = DEFAULT_ARRIVAL_WINDOW_MS, now = Date.now()): boolean {
  const created = uuidv7Time(id);
  return created !== undefined && created > now - windowMs && created < now + 60_000;
}

/**
 * Polls `check` every `intervalMs` until it returns true or `timeoutMs` passed.
 *
 * @returns true as soon as `check` held, false at the deadline.
 */
export async function waitUntil(
  check: () => Promise<boolean>,
  options: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<boolean> {
  const deadline = Date.now() + (options.timeoutMs ?? DEFAULT_REPLICA_WAIT_MS);
  const interval = options.intervalMs ?? 25;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) =>
      setTimeout(resolve, Math.min(interval, Math.max(1, deadline - Date.now()))),
    );
  }
}

/**
 * For a mutation that needs `id` in a replica: `present` (go on), `absent` (really unknown: answer
 * NOT_FOUND) or `not-yet` (created recently, not replicated within `timeoutMs`: answer a
 * retryable error). Waits only when the id may still arrive.
 *
 * @param exists reads the replica (e.g. `count(*) > 0` by id).
 */
export async function awaitReplicated(
  id: string,
  exists: () => Promise<boolean>,
  options: { timeoutMs?: number; arrivalWindowMs?: number } = {},
): Promise<"present" | "absent" | "not-yet"> {
  if (await exists()) return "present";
  if (!mayStillArrive(id, options.arrivalWindowMs)) return "absent";
  const timeoutMs = options.timeoutMs ?? DEFAULT_REPLICA_WAIT_MS;
  return (await waitUntil(exists, { timeoutMs })) ? "present" : "not-yet";
}

/**
 * For a read model given a token: waits until `appliedVersion()` (the version the replica holds of
 * the token's aggregate, `undefined` when it has none) reaches the token's version.
 *
 * @returns true when it did within `timeoutMs` (default 2 000), false otherwise (answer "not yet").
 * @throws EventsConfigError when the token names another aggregate type than `aggregateType`.
 */
export async function awaitToken(
  token: ConsistencyToken,
  aggregateType: string | readonly string[],
  appliedVersion: (token: ConsistencyToken) => Promise<number | undefined>,
  options: { timeoutMs?: number } = {},
): Promise<boolean> {
  const types = typeof aggregateType === "string" ? [aggregateType] : aggregateType;
  if (!types.includes(token.aggregateType)) {
    throw new EventsConfigError(`a ${token.aggregateType} token cannot be waited for here`);
  }
  return waitUntil(async () => ((await appliedVersion(token)) ?? 0) >= token.version, options);
}
