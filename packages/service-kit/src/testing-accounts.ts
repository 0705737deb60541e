/**
 * Test support for subgraphs that verify sessions: ONE real accounts subgraph process per test run
 * (a vitest global setup), and users signed up on it. Tokens come from its `signUp`, verifiers fetch
 * its JWKS, its `signOut` publishes the `session.revoked` a denylist consumes. A subgraph never imports
 * another subgraph and a package never imports a subgraph (CONVENTIONS.md), so accounts is started as a
 * process from the directory the caller names, like in production.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import { randomBytes } from "node:crypto";
import {
  createKafka,
  type BoxofficeEventDefinition,
  type EventEnvelope,
  type EventRegistry,
} from "@boxoffice/events";
import { deliverEvents, ownTopics, testRegistry, type ConsumerPositions } from "@boxoffice/events/testing";
import pg from "pg";
import { createLogger } from "./logger.ts";
import { createMigratedDatabase, graphqlRequest, type GraphQLBody, type TestDatabase } from "./testing.ts";

/** The accounts process of this run, per accounts folder, and how many projects use it now. */
interface SharedAccounts {
  started: Promise<{ url: string; stop: () => Promise<void> }>;
  users: number;
}
const shared = globalThis as typeof globalThis & { __boxofficeAccounts?: Map<string, SharedAccounts> };

/**
 * A vitest global setup that starts the accounts subgraph in `accountsDir` (`tsx src/main.ts`) on a
 * free port with its own migrated database `<databasePrefix>_<random>` and exports `TEST_ACCOUNTS_URL` (its /graphql URL) to the test
 * workers. Every project of a run that uses it shares ONE accounts process (the first project's
 * `databasePrefix` names its database): vitest runs every project's global setup in its one main
 * process, and a process per project cost ~5 s each at the start of the run. The teardown of the
 * last project using it stops it (SIGTERM, SIGKILL after 15 s) and drops the database.
 * Use after `@boxoffice/infra/vitest-global-setup` (it needs DATABASE_URL and KAFKA_BROKERS).
 *
 * @throws Error when accounts has no generated code, exits, or is not ready within 60 s.
 */
export function accountsGlobalSetup(
  databasePrefix: string,
  accountsDir: string,
): () => Promise<() => Promise<void>> {
  return async () => {
    const all = (shared.__boxofficeAccounts ??= new Map<string, SharedAccounts>());
    let entry = all.get(accountsDir);
    if (!entry) {
      entry = { started: startAccounts(databasePrefix, accountsDir), users: 0 };
      all.set(accountsDir, entry);
      // A failed start is not kept: the next project tries again (and reports its own error).
      entry.started.catch(() => all.delete(accountsDir));
    }
    entry.users += 1;
    const accounts = await entry.started;
    process.env.TEST_ACCOUNTS_URL = accounts.url;
    const used = entry;
    return async () => {
      used.users -= 1;
      if (used.users > 0) return;
      all.delete(accountsDir);
      await accounts.stop();
    };
  };
}

/** Starts accounts on its own migrated database; `stop` stops it and drops the database. */
async function startAccounts(
  databasePrefix: string,
  accountsDir: string,
): Promise<{ url: string; stop: () => Promise<void> }> {
  if (!existsSync(path.join(accountsDir, "src/generated/prisma"))) {
    throw new Error(`${accountsDir} has no generated code: run \`npx -y pnpm@12.4.2 run generate\` there`);
  }
  const db = await createMigratedDatabase(databasePrefix, accountsDir);
  const child = spawn(path.join(accountsDir, "node_modules/.bin/tsx"), ["src/main.ts"], {
    cwd: accountsDir,
    env: {
      ...process.env,
      DATABASE_URL: db.url,
      ACCOUNTS_PORT: "0",
      NODE_ENV: "test",
      LOG_LEVEL: "info",
      // Every test user of a run signs up from this one address; throttling has its own tests.
      ACCOUNTS_SIGNUP_PER_ADDRESS: "100000",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  try {
    const url = await readyUrl(child);
    return {
      url,
      stop: async () => {
        await stop(child);
        await db.drop();
      },
    };
  } catch (error) {
    child.kill("SIGKILL");
    await db.drop();
    throw error;
  }
}

/** Resolves with the URL from the "accounts subgraph ready" log line (pino JSON on stdout). */
function readyUrl(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    const output: string[] = [];
    const timer = setTimeout(
      () => reject(new Error(`accounts did not start in 60 s:\n${output.join("\n")}`)),
      60_000,
    );
    const lines = createInterface({ input: child.stdout! });
    lines.on("line", (line) => {
      output.push(line);
      try {
        const entry = JSON.parse(line) as { msg?: string; url?: string };
        if (entry.msg === "accounts subgraph ready" && entry.url) {
          clearTimeout(timer);
          resolve(entry.url);
        }
      } catch {
        // not a JSON log line
      }
    });
    createInterface({ input: child.stderr! }).on("line", (line) => output.push(line));
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`accounts exited with ${code} during start:\n${output.join("\n")}`));
    });
  });
}

/** SIGTERM (graceful shutdown), SIGKILL after 15 s. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
  await exited;
  clearTimeout(timer);
}

/**
 * The accounts subgraph's /graphql URL from `accountsGlobalSetup`.
 * @throws Error when the global setup did not run.
 */
export function accountsUrl(): string {
  const url = process.env.TEST_ACCOUNTS_URL;
  if (!url) throw new Error("TEST_ACCOUNTS_URL is not set: the accounts global setup did not run");
  return url;
}

/** KAFKA_BROKERS (exported by the infra global setup) as a list. */
export function kafkaBrokers(): string[] {
  return (process.env.KAFKA_BROKERS ?? "").split(",");
}

/** A user signed up on the real accounts subgraph, with its bearer token and session id. */
export interface TestUser {
  id: string;
  email: string;
  token: string;
  sessionId: string;
}

let counter = 0;

/**
 * Signs a new user up on accounts (argon2id, real session JWT): e-mail `<label><n>.<uuid>@example.test`.
 * @throws Error with the GraphQL errors when sign-up fails.
 */
export async function signUp(label = "user"): Promise<TestUser> {
  counter += 1;
  const email = `${label}${counter}.${randomUUID()}@example.test`;
  const { body } = await graphqlRequest(
    accountsUrl(),
    `mutation ($email: String!, $password: String!) {
      signUp(input: { email: $email, password: $password }) { token user { id email } }
    }`,
    { email, password: "correct horse battery staple" },
  );
  const payload = body.data?.signUp as { token: string; user: { id: string; email: string } } | undefined;
  if (!payload) throw new Error(`signUp failed: ${JSON.stringify(body.errors)}`);
  const claims = JSON.parse(Buffer.from(payload.token.split(".")[1] ?? "", "base64url").toString()) as {
    sid: string;
  };
  return { id: payload.user.id, email: payload.user.email, token: payload.token, sessionId: claims.sid };
}

/**
 * Signs the user's session out on accounts (which publishes `session.revoked`).
 * @throws Error when accounts does not answer `signOut: true`.
 */
export async function signOut(user: TestUser): Promise<void> {
  const { body } = await graphqlRequest(accountsUrl(), "mutation { signOut }", {}, bearer(user));
  if (body.data?.signOut !== true) throw new Error(`signOut failed: ${JSON.stringify(body)}`);
}

/** `{ authorization: "Bearer <token>" }` for the user. */
export function bearer(user: Pick<TestUser, "token">): Record<string, string> {
  return { authorization: `Bearer ${user.token}` };
}

/**
 * Polls `check` every 10 ms until it holds.
 * @returns the elapsed ms.
 * @throws Error "<what> not met within <deadlineMs> ms" at the deadline (default 30 000 ms).
 */
export async function waitUntil(
  check: () => Promise<boolean> | boolean,
  deadlineMs = 30_000,
  what = "condition",
): Promise<number> {
  const start = performance.now();
  while (!(await check())) {
    if (performance.now() - start > deadlineMs) throw new Error(`${what} not met within ${deadlineMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return performance.now() - start;
}

/** What a subgraph's test harness starts its app with, and cleans up after (see {@link subgraphTestBed}). */
export interface SubgraphTestBed {
  /** Random hex id of this test file's bed (topic prefix `<letter><id>`, consumer groups `<name>-test-<id>`). */
  id: string;
  db: TestDatabase;
  /** Topics of this bed's own (prefixed), except the aggregates in `keep`, which stay on the real topics. */
  registry: EventRegistry<BoxofficeEventDefinition>;
  /** Consumer-group namespace to start the app with. */
  namespace: string;
  /**
   * Environment for the subgraph's env loader: `NODE_ENV=test`, `DATABASE_URL` (the bed's database),
   * `KAFKA_BROKERS`, `<NAME>_PORT=0` (any free port) and `AUTH_JWKS_URL` (the real accounts process).
   */
  env: Record<string, string>;
  /** Runs one query on the bed's database (2 pooled connections); returns the rows. */
  sql: <T extends Record<string, unknown>>(text: string, values?: unknown[]) => Promise<T[]>;
  /**
   * Produces `events` to the bed's topics and waits until `consumer` has settled every one
   * (`deliverEvents` of `@boxoffice/events/testing`, `what` names them in its timeout error).
   */
  deliver: (consumer: ConsumerPositions, events: readonly EventEnvelope[], what?: string) => Promise<void>;
  /** Registers an app (the first, a replica, a restart) for `stop()`; returns it. */
  track: <A extends { stop(): Promise<void> }>(app: A) => A;
  /** Stops every tracked app, then drops the database and deletes the bed's own topics. */
  stop: () => Promise<void>;
}

/**
 * The common part of every subgraph's test harness: a copy of its migrated database
 * (`createMigratedDatabase`), topics of its own (`testRegistry`, tests run in parallel and in any
 * order), a consumer-group namespace, the environment that points its session verification at the
 * real accounts process of `accountsGlobalSetup`, and the clean-up. The harness adds its own
 * variables and starts the app: `bed.track(await startX(xEnv({ ...bed.env, … }), logger, { registry:
 * bed.registry, consumerGroupNamespace: bed.namespace }))`.
 *
 * @param name the subgraph (`tickets`): its database prefix, port variable and group namespace.
 * @param dir the subgraph's folder (its prisma/migrations are applied to the template).
 * @param keep aggregates whose events stay on the real topics (default: accounts' `user`, `session`,
 *   `signing-key`, which the real accounts process publishes).
 * @throws when PostgreSQL or the accounts process is not there (global setup missing).
 */
export async function subgraphTestBed(
  name: string,
  dir: string,
  keep: Parameters<typeof testRegistry>[1] = ["user", "session", "signing-key"],
): Promise<SubgraphTestBed> {
  const id = randomBytes(5).toString("hex");
  const prefix = `${name[0]}${id}`;
  const db = await createMigratedDatabase(`${name}_test`, dir);
  const registry = testRegistry(prefix, keep);
  const pool = new pg.Pool({ connectionString: db.url, max: 2 });
  const apps: Array<{ stop(): Promise<void> }> = [];
  return {
    id,
    db,
    registry,
    namespace: `${name}-test-${id}`,
    env: {
      NODE_ENV: "test",
      DATABASE_URL: db.url,
      KAFKA_BROKERS: kafkaBrokers().join(","),
      [`${name.toUpperCase()}_PORT`]: "0",
      AUTH_JWKS_URL: accountsUrl().replace(/\/graphql$/, "/.well-known/jwks.json"),
    },
    async sql<T extends Record<string, unknown>>(text: string, values: unknown[] = []) {
      return (await pool.query<T>(text, values)).rows;
    },
    async deliver(consumer, events, what = "events") {
      const kafka = createKafka({ clientId: `${name}-test`, brokers: kafkaBrokers() });
      await deliverEvents(kafka, registry, consumer, events, { what });
    },
    track(app) {
      apps.push(app);
      return app;
    },
    async stop() {
      // stop() of an app its test already stopped is a no-op in service-kit.
      await Promise.all(apps.map((app) => app.stop()));
      await pool.end();
      await db.drop();
      const admin = createKafka({ clientId: `${name}-test`, brokers: kafkaBrokers() }).admin();
      await admin.connect();
      await admin.deleteTopics({ topics: ownTopics(registry, prefix) }).catch(() => undefined);
      await admin.disconnect();
    },
  };
}

/**
 * The logger a subgraph test harness gives its app: silent, unless `TEST_LOG_LEVEL` (a pino level:
 * `error`, `warn`, `info`, `debug`) is set — e.g. `TEST_LOG_LEVEL=error npx vitest run --project orders`
 * to see the cause of an INTERNAL_SERVER_ERROR a test met (its logs go to the test's stdout).
 */
export function testLogger(service: string) {
  return createLogger(service, process.env.TEST_LOG_LEVEL ?? "silent");
}

/** A GraphQL request to the subgraph of `harness` (anything with its /graphql `url`), as `user` (bearer token) when given. */
export function gql(
  harness: { url: string },
  query: string,
  variables: Record<string, unknown> = {},
  user?: Pick<TestUser, "token">,
): Promise<{ res: Response; body: GraphQLBody }> {
  return graphqlRequest(harness.url, query, variables, user ? bearer(user) : {});
}

/** What every subgraph's test harness gives its tests; a harness adds what is particular to it. */
export interface SubgraphHarness<App> {
  app: App;
  /** The app's /graphql URL. */
  url: string;
  db: TestDatabase;
  registry: EventRegistry<BoxofficeEventDefinition>;
  /** Runs one query on the harness's database; returns the rows. */
  sql: <T extends Record<string, unknown>>(text: string, values?: unknown[]) => Promise<T[]>;
  /** Stops every app the harness started, drops its database and deletes its own topics. */
  stop(): Promise<void>;
}
