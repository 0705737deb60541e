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

/** Prefix of the wire form of a token (`ct1.` = consistency token, format 1). */
const WIRE_PREFIX = "ct1.";
/** At most this many writes in one token (a mutation that changed a few aggregates). */
export const MAX_TOKEN_WRITES = 8;
/** Longest accepted wire form, characters (far above what `MAX_TOKEN_WRITES` writes need). */
const MAX_WIRE_LENGTH = 2_000;

/**
 * The opaque form clients see: `ct1.` + base64url (RFC 4648 §5) of the writes'
 * `formatConsistencyToken` forms joined by `,`. Clients must not parse it (the format may change;
 * the `ct1.` prefix versions it); the server reads it with `decodeConsistencyToken`.
 *
 * @param writes 1 to `MAX_TOKEN_WRITES` writes, e.g. a payment and the order it completes.
 * @throws EventsConfigError for no write or too many.
 */
export function encodeConsistencyToken(writes: readonly ConsistencyToken[]): string {
  if (writes.length === 0 || writes.length > MAX_TOKEN_WRITES) {
    throw new EventsConfigError(
      `a consistency token names 1 to ${MAX_TOKEN_WRITES} writes, not ${writes.length}`,
    );
  }
  return (
    WIRE_PREFIX + Buffer.from(writes.map(formatConsistencyToken).join(","), "utf8").toString("base64url")
  );
}

/**
 * Reads a token made by `encodeConsistencyToken`.
 *
 * @returns its writes, or `undefined` when `raw` is not a well-formed token (not a string, wrong
 *   prefix or base64url, a malformed write, too many writes): callers answer BAD_USER_INPUT.
 */
export function decodeConsistencyToken(raw: unknown): ConsistencyToken[] | undefined {
  if (typeof raw !== "string" || raw.length > MAX_WIRE_LENGTH || !raw.startsWith(WIRE_PREFIX))
    return undefined;
  const body = raw.slice(WIRE_PREFIX.length);
  if (!/^[A-Za-z0-9_-]+$/.test(body)) return undefined;
  const parts = Buffer.from(body, "base64url").toString("utf8").split(",");
  if (parts.length > MAX_TOKEN_WRITES) return undefined;
  const writes: ConsistencyToken[] = [];
  for (const part of parts) {
    const write = parseConsistencyToken(part);
    if (!write) return undefined;
    writes.push(write);
  }
  return writes;
}

/**
 * A consumer group of this service that feeds its read models: its group id and the aggregate types
 * of the events it applies. `EventConsumer` satisfies it (`groupId`, `aggregateTypes`).
 */
export interface ReadModelSource {
  readonly groupId: string;
  readonly aggregateTypes: readonly string[];
}

/** A connection to the service's own schema, where its `event_inbox` lives (Prisma client or `pgExecutor`). */
export interface InboxReader {
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): PromiseLike<T>;
}

/**
 * Read-your-writes for one service's read models, from its inbox: a write (aggregate, version) has
 * been applied by a consumer group when that group's `event_inbox` holds an event of the aggregate
 * at that version or later (the inbox row is written in the same transaction as the handler's
 * effects, and each aggregate's events arrive in version order; consumer.ts). A service waits for
 * every one of its groups that applies the aggregate's type; a write of a type none of its groups
 * applies is already visible (the service owns that aggregate — a token is only issued after the
 * owner's commit — or its reads do not depend on it).
 *
 * The inbox lookup uses `event_inbox_aggregate_idx` (packages/events/sql/inbox.sql).
 */
export class ReadYourWrites {
  private readonly sources: readonly ReadModelSource[];
  private readonly timeoutMs: number;
  private readonly intervalMs: number;
  private readonly lookup: string;

  /**
   * @param db reads the service's own schema.
   * @param sources the service's consumer groups that feed read models.
   * @param options `timeoutMs`: the bound of a wait (default `DEFAULT_REPLICA_WAIT_MS`, 2 000 ms);
   *   `intervalMs`: how often the inbox is read while waiting (default 20 ms).
   */
  constructor(
    private readonly db: InboxReader,
    sources: readonly ReadModelSource[],
    options: { timeoutMs?: number; intervalMs?: number } = {},
  ) {
    this.sources = sources;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_REPLICA_WAIT_MS;
    this.intervalMs = options.intervalMs ?? 20;
    // How many of the given groups have applied the aggregate at ≥ the version.
    this.lookup =
      `SELECT count(DISTINCT consumer_group)::int AS n FROM event_inbox` +
      ` WHERE aggregate_type = $1 AND aggregate_id = $2 AND aggregate_version >= $3::bigint` +
      ` AND consumer_group = ANY($4::text[])`;
  }

  /** The groups that must have applied `write` before a read here reflects it (empty: none). */
  groupsFor(write: ConsistencyToken): string[] {
    return this.sources.filter((s) => s.aggregateTypes.includes(write.aggregateType)).map((s) => s.groupId);
  }

  /** Whether every write has been applied by every group that applies its type (one query per write). */
  async applied(writes: readonly ConsistencyToken[]): Promise<boolean> {
    for (const write of writes) {
      const groups = this.groupsFor(write);
      if (groups.length === 0) continue;
      const rows = await this.db.$queryRawUnsafe<{ n: number }[]>(
        this.lookup,
        write.aggregateType,
        write.aggregateId,
        String(write.version),
        groups,
      );
      if ((rows[0]?.n ?? 0) < groups.length) return false;
    }
    return true;
  }

  /**
   * Waits, bounded, until `applied(writes)`.
   *
   * @returns true as soon as every write is applied here; false after `timeoutMs` (answer a
   *   retryable "not yet": nothing was read).
   */
  async waitFor(writes: readonly ConsistencyToken[], timeoutMs = this.timeoutMs): Promise<boolean> {
    return waitUntil(() => this.applied(writes), { timeoutMs, intervalMs: this.intervalMs });
  }

  /**
   * How fresh this service's read models are: per group, `lagEvents` (events in Kafka not applied
   * yet) and `lagMs` (age of the oldest of them, 0 when caught up), from `status()` of consumers
   * that have one; the totals are the sum of events and the largest age.
   */
  freshness(): Freshness {
    const groups = this.sources.map((source) => {
      const status = hasStatus(source) ? source.status() : undefined;
      return {
        groupId: source.groupId,
        ready: status?.ready ?? false,
        lagEvents: status?.lag.events ?? 0,
        lagMs: status?.lag.ms ?? 0,
      };
    });
    return {
      ready: groups.every((g) => g.ready),
      lagEvents: groups.reduce((sum, g) => sum + g.lagEvents, 0),
      lagMs: groups.reduce((max, g) => Math.max(max, g.lagMs), 0),
      groups,
    };
  }
}

/** What `ReadYourWrites.freshness()` reports. */
export interface Freshness {
  /** Every group has joined and is consuming. */
  ready: boolean;
  /** Events not applied yet, summed over the groups. */
  lagEvents: number;
  /** Age of the oldest event not applied yet, ms, over the groups (0 when caught up). */
  lagMs: number;
  groups: { groupId: string; ready: boolean; lagEvents: number; lagMs: number }[];
}

function hasStatus(
  source: ReadModelSource,
): source is ReadModelSource & { status(): { ready: boolean; lag: { events: number; ms: number } } } {
  return typeof (source as { status?: unknown }).status === "function";
}
