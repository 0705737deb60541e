/**
 * The gateway's defences against abuse at a normal request rate: the cost limit (over the supergraph's
 * `@listSize` declarations, variables and defaults included), an operation budget per client, the
 * client's address, and the shared secret that seals the subgraphs.
 */
import type { ApolloServerPlugin } from "@apollo/server";
import type { GraphQLDataSourceProcessOptions } from "@apollo/gateway";
import {
  CLIENT_ADDRESS_HEADER,
  costLimitPlugin,
  GATEWAY_SECRET_HEADER,
  listSizesOf,
  type Logger,
} from "@boxoffice/service-kit";
import { GraphQLError, parse } from "graphql";
import pg from "pg";
import {
  RateLimiterMemory,
  RateLimiterPostgres,
  RateLimiterRes,
  type RateLimiterAbstract,
} from "rate-limiter-flexible";
import type { GatewayContext, SubgraphDataSource } from "./gateway.ts";

/** The operation budget: how much cost one client may spend per window. */
export interface OperationBudget {
  /** Cost points per client per window (GATEWAY_OPERATION_BUDGET, default 20 000). */
  points: number;
  /** Window length in seconds (GATEWAY_OPERATION_BUDGET_WINDOW_SECONDS, default 60). */
  windowSeconds: number;
  /**
   * PostgreSQL for the counters (GATEWAY_RATE_LIMIT_DATABASE_URL), so every gateway instance draws from
   * the same budget; table `gateway.rate_limits`, created if missing. Unset: counters in this process
   * only (one instance, development).
   */
  databaseUrl?: string | undefined;
}

export interface AbuseOptions {
  supergraphSdl: string;
  maxCost: number;
  budget: OperationBudget;
  logger: Logger;
}

/** `RATE_LIMITED` for a whole request: HTTP 429 and `Retry-After` (RFC 6585 §4, RFC 9110 §10.2.3). */
export function rateLimitedError(message: string, msBeforeNext: number): GraphQLError {
  const retryAfter = Math.max(1, Math.ceil(msBeforeNext / 1000));
  return new GraphQLError(message, {
    extensions: {
      code: "RATE_LIMITED",
      retryAfter,
      http: { status: 429, headers: new Map([["retry-after", String(retryAfter)]]) },
    },
  });
}

/**
 * Creates the budget's limiter: rate-limiter-flexible over PostgreSQL (the platform's own store; the
 * counters are shared by every gateway instance, an upsert per request) with an in-memory insurance
 * limiter that takes over while PostgreSQL is unreachable, or in memory alone without a database.
 */
async function createBudgetLimiter(
  budget: OperationBudget,
  logger: Logger,
): Promise<{ limiter: RateLimiterAbstract; close: () => Promise<void> }> {
  const options = { keyPrefix: "operation_budget", points: budget.points, duration: budget.windowSeconds };
  if (!budget.databaseUrl) return { limiter: new RateLimiterMemory(options), close: () => Promise.resolve() };
  const pool = new pg.Pool({ connectionString: budget.databaseUrl, max: 5, connectionTimeoutMillis: 10_000 });
  // An idle connection that PostgreSQL closes (a restart, a failover) is reported here; without a
  // listener the pool's 'error' event would end the process. The insurance limiter covers the gap.
  pool.on("error", (error) => logger.warn({ err: error }, "rate-limit store connection lost"));
  try {
    const limiter = await withSetupLock(pool, async () => {
      await pool.query("CREATE SCHEMA IF NOT EXISTS gateway");
      return new Promise<RateLimiterPostgres>((resolve, reject) => {
        const created: RateLimiterPostgres = new RateLimiterPostgres(
          {
            ...options,
            storeClient: pool,
            storeType: "pool",
            schemaName: "gateway",
            tableName: "rate_limits",
            insuranceLimiter: new RateLimiterMemory(options),
          },
          (error?: unknown) =>
            error
              ? reject(error instanceof Error ? error : new Error("rate-limit table setup failed"))
              : resolve(created),
        );
      });
    });
    return { limiter, close: () => pool.end() };
  } catch (error) {
    await pool.end();
    throw error;
  }
}

/**
 * Runs `setup` while holding a PostgreSQL session advisory lock (on its own pooled connection), so
 * gateway instances starting at once create `gateway` and `gateway.rate_limits` one after another.
 * `CREATE … IF NOT EXISTS` is not safe against a concurrent create of the same name: the loser fails
 * with 23505 on a catalog index or 42710 `type "rate_limits" already exists` (PostgreSQL docs, "Explicit
 * Locking", §13.3.5 Advisory Locks; rate-limiter-flexible 11.4.0 tolerates only 23505).
 *
 * @throws what `setup` throws; the pool's connection error (10 s connect timeout); PostgreSQL 55P03
 *   `lock_not_available` after 30 s waiting for another instance's setup.
 */
/** The advisory lock's key text (`hashtext` of it is the lock id). */
const SETUP_LOCK = "boxoffice gateway.rate_limits setup";

async function withSetupLock<T>(pool: pg.Pool, setup: () => Promise<T>): Promise<T> {
  const lock = await pool.connect();
  try {
    // The holder's work takes milliseconds; a holder stuck on a dead connection must not stall every
    // other instance's start for as long as TCP keepalive takes to notice (lock_timeout: 55P03).
    await lock.query("SET lock_timeout = '30s'");
    await lock.query("SELECT pg_advisory_lock(hashtext($1))", [SETUP_LOCK]);
    try {
      return await setup();
    } finally {
      // Closing the session below releases the lock too; a failed unlock must not hide setup's outcome.
      await lock.query("SELECT pg_advisory_unlock(hashtext($1))", [SETUP_LOCK]).catch(() => undefined);
    }
  } finally {
    // Closed rather than pooled: the session, and any lock a failed unlock left, ends with it.
    lock.release(true);
  }
}

/** The client's address for limits: Express's `req.ip` (socket, or X-Forwarded-For behind trusted proxies). */
export function clientAddress(context: GatewayContext): string {
  const req = context.req as { ip?: string; socket: { remoteAddress?: string } } | undefined;
  return req?.ip ?? req?.socket.remoteAddress ?? "unknown";
}

/**
 * The cost limit and the operation budget as Apollo plugins. The cost is computed once, after the
 * operation is resolved and before any subgraph is called: over `maxCost` → COST_LIMIT_EXCEEDED (400,
 * with `cost` and `limit`); else the cost (at least 1) is taken from the client's budget, and a client
 * over budget gets RATE_LIMITED (429, `retryAfter` seconds). Aliased and repeated fields each count.
 */
export async function abusePlugins(
  options: AbuseOptions,
): Promise<{ plugins: ApolloServerPlugin<GatewayContext>[]; stop: () => Promise<void> }> {
  const sizes = listSizesOf(parse(options.supergraphSdl));
  const { limiter, close } = await createBudgetLimiter(options.budget, options.logger);
  const plugin = costLimitPlugin<GatewayContext>(sizes, options.maxCost, async (cost, context) => {
    try {
      await limiter.consume(clientAddress(context), Math.max(1, cost));
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) {
        throw rateLimitedError(
          `Too many requests: this client's budget of ${options.budget.points} per ${options.budget.windowSeconds} s is spent.`,
          rejection.msBeforeNext,
        );
      }
      throw rejection;
    }
  });
  return { plugins: [plugin, rateLimitedStatusPlugin()], stop: close };
}

/**
 * When a subgraph refused the whole operation for a rate limit (no data, or only null root fields,
 * and every error RATE_LIMITED — e.g. a throttled signIn), answer HTTP 429 with `Retry-After`
 * (RFC 6585 §4) as the gateway's own budget does, so clients can back off on the status alone.
 */
export function rateLimitedStatusPlugin(): ApolloServerPlugin<GatewayContext> {
  return {
    requestDidStart: () =>
      Promise.resolve({
        willSendResponse: ({ response }) => {
          if (response.body.kind !== "single" || !response.http) return Promise.resolve();
          const { data, errors } = response.body.singleResult;
          const nothing = !data || Object.values(data).every((v) => v === null);
          if (!nothing || !errors?.length || !errors.every((e) => e.extensions?.code === "RATE_LIMITED")) {
            return Promise.resolve();
          }
          const retryAfter = Math.max(
            1,
            ...errors.map((e) =>
              typeof e.extensions?.retryAfter === "number" ? e.extensions.retryAfter : 1,
            ),
          );
          response.http.status = 429;
          response.http.headers.set("retry-after", String(retryAfter));
          return Promise.resolve();
        },
      }),
  };
}

/**
 * The gateway's subgraph data source, sealed: it adds the shared secret and the client's address to
 * every subgraph request (subgraphs trust the address only with the secret). A class factory, because
 * gateway.ts imports this module: extending its class here at load time would be a circular import.
 */
export function sealedDataSource(Base: typeof SubgraphDataSource, secret: string | undefined) {
  return class SealedSubgraphDataSource extends Base {
    override willSendRequest(options: GraphQLDataSourceProcessOptions<GatewayContext>): void {
      super.willSendRequest(options);
      const headers = options.request.http?.headers;
      if (!headers) return;
      if (secret) headers.set(GATEWAY_SECRET_HEADER, secret);
      const context = options.context as Partial<GatewayContext>;
      if (typeof context.requestId === "string") {
        headers.set(CLIENT_ADDRESS_HEADER, clientAddress(context as GatewayContext));
      }
    }
  };
}
