/**
 * What the part-2 e2e files do through the gateway, as a client would: sign up, list a ticket, order,
 * pay, poll until an event has travelled; plus read-only SQL for what a client cannot see (row counts).
 */
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { down, freePortPair, up } from "@boxoffice/infra";
import { startPlatform, type Platform, type PlatformOptions } from "@boxoffice/platform";
import { graphqlRequest } from "@boxoffice/service-kit/testing";
import pg from "pg";
import { afterAll, afterEach, beforeAll } from "vitest";

export const PASSWORD = "correct horse battery staple";

export const PAY = `mutation ($o: ID!, $t: String!, $k: String!) {
  payForOrder(orderId: $o, paymentToken: $t, idempotencyKey: $k) { id status amountMinor currency failureReason }
}`;

/** A word no other listing has (letters only, so full-text search keeps it as one lexeme). */
export function uniqueWord(prefix = "zq"): string {
  const letters = "abcdefghijklmnopqrstuvwxyz";
  let word = prefix;
  for (let i = 0; i < 10; i += 1) word += letters[Math.floor(Math.random() * letters.length)];
  return word;
}

/** Polls `read` every 100 ms until `done` holds or `timeoutMs` passes; returns the last value. */
export async function eventually<T>(
  read: () => Promise<T>,
  done: (v: T) => boolean,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!done(value) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    value = await read();
  }
  return value;
}

export interface TestUser {
  id: string;
  /** `name=value` of the session cookie. */
  cookie: string;
}

/** A client of one platform's gateway. */
export function gatewayClient(platform: Platform) {
  const gql = (query: string, variables: Record<string, unknown> = {}, cookie?: string) =>
    graphqlRequest(platform.gatewayUrl, query, variables, cookie ? { cookie } : {});

  async function newUser(label = "user"): Promise<TestUser> {
    const email = `${label}.${Date.now()}.${Math.random().toString(36).slice(2)}@example.test`;
    const { res, body } = await gql(
      `mutation ($e: String!, $p: String!) { signUp(input: { email: $e, password: $p }) { user { id } } }`,
      { e: email, p: PASSWORD },
    );
    const user = (body.data?.signUp as { user: { id: string } } | undefined)?.user;
    if (!user) throw new Error(`signUp failed: ${JSON.stringify(body)}`);
    return { id: user.id, cookie: res.headers.getSetCookie()[0]!.split(";")[0]! };
  }

  async function listTicket(seller: TestUser, title: string, priceMinor = 4500): Promise<string> {
    const { body } = await gql(
      `mutation ($t: String!, $p: Int!) { createTicket(input: { title: $t, priceMinor: $p, currency: "EUR" }) { id } }`,
      { t: title, p: priceMinor },
      seller.cookie,
    );
    const ticket = body.data?.createTicket as { id: string } | undefined;
    if (!ticket) throw new Error(`createTicket failed: ${JSON.stringify(body)}`);
    return ticket.id;
  }

  /** createOrder, retried while the orders subgraph's ticket replica has not seen the ticket yet. */
  function createOrder(ticketId: string, buyer: TestUser) {
    return eventually(
      () =>
        gql(
          `mutation ($t: ID!) { createOrder(ticketId: $t) { id status amountMinor currency } }`,
          { t: ticketId },
          buyer.cookie,
        ),
      (r) => r.body.errors?.[0]?.extensions?.code !== "NOT_FOUND",
    );
  }

  /** payForOrder, retried while the payments subgraph's order replica has not seen the order yet. */
  function pay(orderId: string, token: string, key: string, buyer: TestUser) {
    return eventually(
      () => gql(PAY, { o: orderId, t: token, k: key }, buyer.cookie),
      (r) => r.body.errors?.[0]?.extensions?.code !== "NOT_FOUND",
    );
  }

  async function orderStatus(orderId: string, buyer: TestUser): Promise<string | undefined> {
    const { body } = await gql(
      `query ($id: ID!) { order(id: $id) { status } }`,
      { id: orderId },
      buyer.cookie,
    );
    return (body.data?.order as { status: string } | null | undefined)?.status;
  }

  return { gql, newUser, listTicket, createOrder, pay, orderStatus };
}

/** Runs one read-only query on the platform's database (observes; the tests never write). */
export async function sql<T extends pg.QueryResultRow>(
  platform: Platform,
  text: string,
  values: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client({ connectionString: platform.databaseUrl });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

/** How many output lines of a platform's processes `usePlatform` keeps for a failed test's report. */
const PLATFORM_OUTPUT_LINES = 400;

/** Limits raised for journeys that are not about them (one address, many users and orders). */
export const RELAXED_LIMITS: Record<string, string> = {
  ACCOUNTS_SIGNUP_PER_ADDRESS: "100000",
  ORDERS_MAX_PENDING_PER_BUYER: "1000",
  GATEWAY_OPERATION_BUDGET: "100000000",
};

/** Options of `usePlatform`: the platform's own, less the engines (given by the global setup). */
export interface UsePlatformOptions extends Omit<PlatformOptions, "adminDatabaseUrl" | "kafkaBrokers"> {
  /**
   * Run this platform on a Kafka broker of its own (own data directory and ports, started through the
   * infra API) that `broker.stop()` and `broker.start()` take down and bring back, for outage tests.
   * The shared broker cannot be cut for one platform: a TCP proxy in front of it would not cut
   * anything, since Kafka clients bootstrap through the given address and then connect to the address
   * the broker advertises. Default: the global setup's shared broker.
   */
  ownBroker?: boolean;
}

/** A Kafka broker of one platform's own (`usePlatform({ ownBroker: true })`). */
export interface OwnBroker {
  /** Stops the broker (its data is kept); resolves once it is down. */
  stop: () => Promise<void>;
  /** Starts it again on the same ports and data; resolves once it answers. */
  start: () => Promise<void>;
}

/**
 * Starts a platform (fresh database and KAFKA_NAMESPACE, every process real) before this file's tests
 * and stops it after them. Read `.platform` / `.client` (and `.broker` with `ownBroker`) inside tests
 * (they exist once beforeAll ran). Processes are stopped, restarted and signalled through
 * `.platform` (`stopService`, `startService`, `signalService`).
 *
 * The processes' output (warnings and errors: the platform's `LOG_LEVEL`) is kept, the last
 * `PLATFORM_OUTPUT_LINES` lines, and printed to stderr after a test that failed: a failing e2e test
 * on a CI machine then shows what the subgraphs said, not only what the client saw.
 */
export function usePlatform({ ownBroker = false, ...options }: UsePlatformOptions = {}) {
  const state: {
    platform?: Platform;
    client?: ReturnType<typeof gatewayClient>;
    broker?: OwnBroker;
    brokerEnv?: NodeJS.ProcessEnv;
    dataDir?: string;
  } = {};
  const output: string[] = [];
  let printed = 0;
  const keep = (name: string, line: string) => {
    output.push(`${new Date().toISOString()} ${name}: ${line}`);
    if (output.length > PLATFORM_OUTPUT_LINES) {
      output.shift();
      printed = Math.max(0, printed - 1);
    }
  };
  afterEach(({ task }) => {
    if (task.result?.state !== "fail" || printed === output.length) return;
    console.error(
      `platform output since the last print (${output.length - printed} lines, after "${task.name}" failed):\n` +
        output.slice(printed).join("\n"),
    );
    printed = output.length;
  });
  beforeAll(
    async () => {
      let kafkaBrokers = process.env.KAFKA_BROKERS!;
      if (ownBroker) {
        state.dataDir = await mkdtemp(path.join(tmpdir(), "boxoffice-own-broker-"));
        await chmod(state.dataDir, 0o755);
        const port = await freePortPair();
        const env: NodeJS.ProcessEnv = {
          ...process.env,
          KAFKA_BROKERS: "",
          INFRA_DATA_DIR: state.dataDir,
          INFRA_KAFKA_PORT: String(port),
          INFRA_KAFKA_CONTROLLER_PORT: String(port + 1),
        };
        state.brokerEnv = env;
        const started = await up({ env, only: ["kafka"], report: () => undefined });
        kafkaBrokers = started.kafkaBrokers.join(",");
        state.broker = {
          stop: () => down({ env, report: () => undefined }).then(() => undefined),
          start: () => up({ env, only: ["kafka"], report: () => undefined }).then(() => undefined),
        };
      }
      state.platform = await startPlatform({
        adminDatabaseUrl: process.env.DATABASE_URL!,
        kafkaBrokers,
        // What the container image runs, built by the global setup (test/support/build.global-setup.ts).
        compiled: true,
        onOutput: keep,
        ...options,
        // Every test client is one address (127.0.0.1) placing many orders; abuse.test.ts keeps the
        // production limits and tests them.
        env: { ...RELAXED_LIMITS, ...options.env },
      });
      state.client = gatewayClient(state.platform);
    },
    // Its own broker plus six processes: minutes on a loaded two-core machine.
    ownBroker ? 420_000 : undefined,
  );
  afterAll(async () => {
    await state.platform?.stop();
    if (state.brokerEnv) await down({ env: state.brokerEnv, report: () => undefined });
    if (state.dataDir) await rm(state.dataDir, { recursive: true, force: true });
  });
  return {
    get platform(): Platform {
      if (!state.platform) throw new Error("the platform is not started (use it inside a test)");
      return state.platform;
    },
    get client(): ReturnType<typeof gatewayClient> {
      if (!state.client) throw new Error("the platform is not started (use it inside a test)");
      return state.client;
    },
    get broker(): OwnBroker {
      if (!state.broker) throw new Error("no broker of its own: usePlatform({ ownBroker: true })");
      return state.broker;
    },
  };
}
