/**
 * `@boxoffice/service-kit/subgraph`: the start-up, readiness, shutdown and auth wiring every subgraph
 * shares, written once. A subgraph's `src/app.ts` passes what is particular to it — its schema and
 * resolvers, its Prisma client, its consumers and workers, its context — to `startSubgraph`.
 *
 * Start order: the database (`SELECT 1`), Kafka (its topics declared), the subgraph's own parts
 * (`setup`), the outbox relay, the signing-key replica (its table loaded, so sessions verify at
 * once), then every consumer — each joins its group in the background — and the workers, then HTTP.
 * HTTP does not wait for the consumer groups: a subgraph restarted after a crash (SIGKILL) would
 * otherwise wait for the broker to expel its dead predecessor (up to the consumers' session timeout,
 * `DEFAULT_SESSION_TIMEOUT_MS` in @boxoffice/events) before answering, although everything it answers
 * comes from its own tables.
 *
 * `/readyz` (see `consumerReadiness`): 503 while the database is unreachable, the relay is down, or a
 * consumer has crashed (or is restarting after a crash, until it has joined again); 200 while a
 * consumer is still joining its group, which is listed under `degraded` — the subgraph serves its
 * read models and session replicas as they are, slightly stale until the consumer catches up (the
 * design: a replica never blocks answering). That includes the session denylist: a revocation
 * published while the subgraph was down takes effect once its consumer has joined.
 *
 * Shutdown order, after HTTP stopped accepting requests: the workers (they act on their own and
 * publish: nothing new starts once shutdown began), then every consumer at once (each finishes the
 * message in flight, commits and leaves its group; one stopped in the middle of its join waits for
 * it first), then the relay (it publishes what workers and consumers wrote last), then the Prisma
 * client, then the subgraph's own steps. The whole sequence runs under `stopOnSignals`' deadline.
 */
import { readFileSync } from "node:fs";
import type { AuthContext } from "@boxoffice/auth-verify";
import { buildSubgraphSchema } from "@apollo/subgraph";
import {
  createPublisher,
  createRelay,
  type BoxofficeEventDefinition,
  type ConsumerStatus,
  type EventRegistry,
  type Publisher,
  type SqlExecutor,
  type TransactionRunner,
} from "@boxoffice/events";
import type { BaseContext } from "@apollo/server";
import type { Express, Request, Response } from "express";
import type { SessionDenylist } from "./denylist.ts";
import { parse } from "graphql";
import { kafkaSecurity } from "./env.ts";
import { connectKafka, eventNames } from "./event-names.ts";
import { eventsLogger } from "./events-logger.ts";
import type { Logger } from "./logger.ts";
import {
  startService,
  type ReadinessCheck,
  type ReadinessResult,
  type RequestScope,
  type RunningService,
  type ShutdownStep,
} from "./server.ts";
import { createSubgraphAuth, type SubgraphAuth, type VerifyingSubgraphEnv } from "./subgraph-auth.ts";
import type { SubgraphEnv } from "./subgraph-env.ts";

/** `buildSubgraphSchema`'s `{ typeDefs, resolvers }` module. */
type SchemaModule = Extract<Parameters<typeof buildSubgraphSchema>[0], { typeDefs: unknown }>;

/** The Prisma client of a subgraph, as far as the skeleton uses it. */
export interface SubgraphDatabase<Tx extends SqlExecutor> extends SqlExecutor {
  $transaction<R>(fn: (tx: Tx) => Promise<R>): Promise<R>;
  $disconnect(): Promise<void>;
}

/** An event consumer as the skeleton starts, stops and reports it (`EventConsumer`, the replicas). */
export interface SubgraphConsumer {
  start(): Promise<void>;
  stop(deadlineMs?: number): Promise<{ timedOut: boolean }>;
  status(): ConsumerStatus;
}

/** A background worker (a polling loop: expiry, refunds, reconciliation). */
export interface SubgraphWorker {
  start(): void;
  stop(): Promise<void>;
}

/** What `setup` gets: everything the skeleton built before the subgraph's own parts. */
export interface SubgraphKit<Tx extends SqlExecutor, Verifying extends boolean> {
  logger: Logger;
  /** `logger` as @boxoffice/events wants it (consumers, workers, relay). */
  log: ReturnType<typeof eventsLogger>;
  kafka: Awaited<ReturnType<typeof connectKafka>>;
  registry: EventRegistry<BoxofficeEventDefinition>;
  /** Consumer-group namespace: groups are `<namespace>.<purpose>`. */
  namespace: string;
  transaction: TransactionRunner<Tx>;
  /** Writes events to the subgraph's outbox (only subgraphs with an `outbox` have that table). */
  publisher: Publisher<BoxofficeEventDefinition>;
  /** Session verification (verifier, denylist, signing-key replica) of a verifying subgraph. */
  auth: Verifying extends true ? SubgraphAuth : undefined;
  /** What every consumer factory of a subgraph takes: spread it, add the Prisma client and handlers' needs. */
  consumerOptions: {
    service: string;
    kafka: Awaited<ReturnType<typeof connectKafka>>;
    registry: EventRegistry<BoxofficeEventDefinition>;
    logger: ReturnType<typeof eventsLogger>;
  };
}

/** What the GraphQL context function gets: the request scope, plus `auth` when verifying. */
export type SubgraphContextBase<Verifying extends boolean> = RequestScope &
  (Verifying extends true ? AuthContext : Record<never, never>);

/** What a subgraph's `setup` returns: its parts the skeleton runs, and anything it wants back. */
export interface SubgraphParts<Verifying extends boolean> {
  /** The per-request GraphQL context: `base` plus the subgraph's services and DataLoaders. */
  context: (args: {
    req: Request;
    res: Response;
    base: SubgraphContextBase<Verifying>;
  }) => BaseContext | Promise<BaseContext>;
  /** Consumers by readiness name (e.g. `ticket-replica-consumer`); the skeleton starts and stops them. */
  consumers?: Record<string, SubgraphConsumer>;
  /** Workers by name (e.g. `order expiration worker`); the skeleton starts and stops them. */
  workers?: Record<string, SubgraphWorker>;
  /** Extra HTTP routes mounted before `/graphql` (e.g. the JWKS document). */
  routes?: (app: Express) => void;
  /** Extra `/readyz` checks. */
  readiness?: ReadinessCheck[];
  /** Extra shutdown steps, run last (after the Prisma client disconnected). */
  shutdown?: ShutdownStep[];
}

/** What tests change in a subgraph's start (every subgraph's start options extend this). */
export interface SubgraphOverrides {
  /** Called with every SQL statement (tests count round trips); the subgraph passes it to its Prisma client. */
  onQuery?: (sql: string) => void;
  /** Event registry (default: the standard topics, under `KAFKA_NAMESPACE` when set); tests pass one with unique topic names. */
  registry?: EventRegistry<BoxofficeEventDefinition>;
  /** Consumer-group namespace (default `<name>`, or `<KAFKA_NAMESPACE>.<name>`); tests pass a unique one. */
  consumerGroupNamespace?: string;
}

/** What every started subgraph app exposes (its start function's result adds its own parts). */
export interface SubgraphApp {
  service: RunningService;
  /** The shutdown described in service-kit's subgraph.ts (idempotent). */
  stop: () => Promise<void>;
}

/** A subgraph app that verifies sessions. */
export interface VerifyingSubgraphApp extends SubgraphApp {
  /** The `session.revoked` consumer and the `isRevoked` hook. */
  denylist: SessionDenylist;
}

/** A subgraph's validated environment, with `<NAME>_PORT` and `<NAME>_HOST` for its `name`. */
export type NamedSubgraphEnv<N extends string> = SubgraphEnv &
  Partial<VerifyingSubgraphEnv> & { [K in `${Uppercase<N>}_PORT`]: number } & {
    [K in `${Uppercase<N>}_HOST`]: string;
  };

export interface SubgraphSpec<
  N extends string,
  Tx extends SqlExecutor,
  Verifying extends boolean,
  Parts extends SubgraphParts<Verifying>,
> {
  /** The subgraph's name, e.g. `tickets`: logs, Kafka client id, default consumer-group namespace. */
  name: N;
  /** Its validated environment (`subgraphEnv` / `verifyingSubgraphEnv`); it listens on `<NAME>_HOST:<NAME>_PORT`. */
  env: NamedSubgraphEnv<N>;
  logger: Logger;
  /** Its Federation 2 SDL file (`new URL("./schema.graphql", import.meta.url)`). */
  schema: URL;
  resolvers: SchemaModule["resolvers"];
  /** Its Prisma client (disconnected at shutdown, or when the start fails). */
  prisma: SubgraphDatabase<Tx>;
  /** The test overrides its start function was given (registry, consumer-group namespace). */
  overrides?: SubgraphOverrides;
  /**
   * The producer name its events carry, and the PostgreSQL schema of its outbox: set for a subgraph
   * that publishes (it gets the outbox relay); unset for one that only consumes.
   */
  outbox?: { producer: string; schema: string };
  /** True for a subgraph that verifies sessions (every one but accounts, which issues them). */
  verifySessions: Verifying;
  /** Builds the subgraph's own parts; nothing of the skeleton runs yet but the database and Kafka. */
  setup: (kit: SubgraphKit<Tx, Verifying>) => Parts | Promise<Parts>;
}

/** A started subgraph: the HTTP service, session verification, and what `setup` returned. */
export type RunningSubgraph<Verifying extends boolean, Parts> = (Verifying extends true
  ? VerifyingSubgraphApp
  : SubgraphApp) & {
  /** Session verification of a verifying subgraph. */
  auth: Verifying extends true ? SubgraphAuth : undefined;
  /** What `setup` returned. */
  parts: Parts;
};

/**
 * A consumer's `/readyz` answer: `true` once it joined its group, `"degraded"` while it is still
 * (re)joining after its start or a rebalance (the service serves meanwhile, its replica slightly
 * stale), `false` once it crashed or stopped — including a crash kafkajs restarts from, until it has
 * joined again, so a consumer that keeps crashing never looks like one that is joining.
 */
export function consumerReadiness(status: ConsumerStatus): ReadinessResult {
  if (status.ready) return true;
  return status.joining ? "degraded" : false;
}

/**
 * Starts a subgraph as described in the module comment and `SubgraphSpec`.
 *
 * @throws when the database or Kafka is unreachable, the port is taken, or `setup` throws; whatever
 *   had started is stopped and the Prisma client disconnected first.
 */
export async function startSubgraph<
  N extends string,
  Tx extends SqlExecutor,
  Verifying extends boolean,
  Parts extends SubgraphParts<Verifying>,
>(spec: SubgraphSpec<N, Tx, Verifying, Parts>): Promise<RunningSubgraph<Verifying, Parts>> {
  const { env, logger, prisma } = spec;
  const names = eventNames(spec.name, env.KAFKA_NAMESPACE);
  const registry = spec.overrides?.registry ?? names.registry;
  const namespace = spec.overrides?.consumerGroupNamespace ?? names.consumerGroupNamespace;
  const upper = spec.name.toUpperCase() as Uppercase<N>;
  // Generic mapped keys do not narrow: the schema (subgraphEnv) guarantees both.
  const listen = env as unknown as Record<string, unknown>;
  const port = Number(listen[`${upper}_PORT`]);
  const host = String(listen[`${upper}_HOST`]);
  const log = eventsLogger(logger);
  const transaction: TransactionRunner<Tx> = (fn) => prisma.$transaction(fn);
  // What has started, undone in reverse when a later step fails.
  const undo: Array<() => Promise<unknown>> = [() => prisma.$disconnect()];
  try {
    await prisma.$queryRawUnsafe("SELECT 1");
    const kafka = await connectKafka({
      security: kafkaSecurity(env),
      clientId: spec.outbox?.producer ?? spec.name,
      brokers: env.KAFKA_BROKERS,
      registry,
      logger: log,
      topics: { partitions: env.KAFKA_TOPIC_PARTITIONS, replicationFactor: env.KAFKA_REPLICATION_FACTOR },
    });
    const auth = spec.verifySessions
      ? createSubgraphAuth<Tx>({
          env: verifyingEnv(env),
          service: namespace,
          kafka,
          db: prisma,
          transaction,
          registry,
          logger: log,
        })
      : undefined;
    const publisher = createPublisher({ registry, producer: spec.outbox?.producer ?? spec.name });
    const parts = await spec.setup({
      logger,
      log,
      kafka,
      registry,
      namespace,
      transaction,
      publisher,
      auth: auth as SubgraphKit<Tx, Verifying>["auth"],
      consumerOptions: { service: namespace, kafka, registry, logger: log },
    });
    for (const step of parts.shutdown ?? []) undo.push(step.run);

    const relay = spec.outbox
      ? createRelay({ connectionString: env.DATABASE_URL, schema: spec.outbox.schema, kafka, logger: log })
      : undefined;
    const consumers: Record<string, SubgraphConsumer> = {
      ...(auth ? { "session-denylist": auth.denylist, "signing-keys": auth.signingKeys } : {}),
      ...parts.consumers,
    };
    const workers = Object.entries(parts.workers ?? {});
    const stopWorkers = async () => {
      await Promise.all(workers.map(([, worker]) => worker.stop()));
    };
    const stopConsumers = async () => {
      const results = await Promise.all(
        Object.entries(consumers).map(async ([name, consumer]) => ({ name, ...(await consumer.stop()) })),
      );
      const late = results.filter((r) => r.timedOut).map((r) => r.name);
      if (late.length) logger.warn({ consumers: late }, "consumers did not leave their groups in time");
    };
    const stopRelay = async () => void (await relay?.stop());

    if (relay) {
      await relay.start();
      undo.unshift(stopRelay);
    }
    undo.unshift(stopConsumers);
    // start() connects and subscribes; each group join goes on in the background.
    await Promise.all(Object.values(consumers).map((consumer) => consumer.start()));
    undo.unshift(stopWorkers);
    for (const [, worker] of workers) worker.start();

    const service = await startService<BaseContext>({
      name: spec.name,
      port,
      host,
      gatewaySecret: env.GATEWAY_SHARED_SECRET,
      logger,
      schema: buildSubgraphSchema({
        typeDefs: parse(readFileSync(spec.schema, "utf8")),
        resolvers: spec.resolvers,
      }),
      context: async ({ req, res, scope }) => {
        const base = (
          auth ? { ...scope, ...(await auth.context({ req })) } : scope
        ) as SubgraphContextBase<Verifying>;
        return parts.context({ req, res, base });
      },
      ...(parts.routes ? { routes: parts.routes } : {}),
      readiness: [
        { name: "database", check: async () => (await prisma.$queryRawUnsafe("SELECT 1"), true) },
        ...(relay ? [{ name: "outbox-relay", check: () => relay.status().ready }] : []),
        ...Object.entries(consumers).map(([name, consumer]) => ({
          name,
          check: () => consumerReadiness(consumer.status()),
        })),
        ...(parts.readiness ?? []),
      ],
      shutdown: [
        { name: "workers", run: stopWorkers },
        { name: "consumers", run: stopConsumers },
        ...(relay ? [{ name: "outbox relay", run: stopRelay }] : []),
        { name: "prisma", run: () => prisma.$disconnect() },
        ...(parts.shutdown ?? []),
      ],
    });
    return {
      service,
      stop: service.stop,
      ...(auth ? { denylist: auth.denylist } : {}),
      auth,
      parts,
    } as unknown as RunningSubgraph<Verifying, Parts>;
  } catch (error) {
    for (const step of undo) await step().catch(() => undefined);
    throw error;
  }
}

/** The `AUTH_*` variables a verifying subgraph's schema (`verifyingSubgraphEnv`) guarantees. */
function verifyingEnv(env: SubgraphEnv & Partial<VerifyingSubgraphEnv>): VerifyingSubgraphEnv {
  const { AUTH_ISSUER, AUTH_AUDIENCE, AUTH_JWKS_URL } = env;
  if (!AUTH_ISSUER || !AUTH_AUDIENCE || !AUTH_JWKS_URL) {
    throw new Error(
      "verifySessions needs AUTH_ISSUER, AUTH_AUDIENCE and AUTH_JWKS_URL (verifyingSubgraphEnv)",
    );
  }
  return { ...env, AUTH_ISSUER, AUTH_AUDIENCE, AUTH_JWKS_URL };
}
