import { readFileSync } from "node:fs";
import { buildSubgraphSchema } from "@apollo/subgraph";
import {
  ReadYourWrites,
  type BoxofficeEventDefinition,
  type EventConsumer,
  type EventRegistry,
} from "@boxoffice/events";
import {
  connectKafka,
  eventNames,
  eventsLogger,
  startService,
  type Logger,
  type RunningService,
  kafkaSecurity,
} from "@boxoffice/service-kit";
import type { SessionDenylist } from "@boxoffice/service-kit/denylist";
import { createSubgraphAuth } from "@boxoffice/service-kit/subgraph-auth";
import { parse } from "graphql";
import type { StorefrontContext } from "./context.ts";
import { createPrisma, type StorefrontTx } from "./db.ts";
import type { StorefrontEnv } from "./env.ts";
import { lockForServing, type ReadModelLock } from "./events/read-model-lock.ts";
import { liveReadModelGroupId } from "./events/read-model-state.ts";
import { createReadModelConsumer } from "./events/read-model.consumer.ts";
import { resolvers } from "./resolvers/index.ts";
import { createStorefrontServices, type StorefrontServices } from "./services.ts";

const typeDefs = parse(readFileSync(new URL("./schema.graphql", import.meta.url), "utf8"));

export interface StorefrontApp {
  service: RunningService;
  services: StorefrontServices;
  /** The `session.revoked` consumer and the `isRevoked` hook. */
  denylist: SessionDenylist;
  /** The read-model consumer (`<namespace>.read-model`). */
  readModel: EventConsumer<BoxofficeEventDefinition, StorefrontTx>;
  /** Stops HTTP, the consumers and Prisma, in that order. */
  stop: () => Promise<void>;
}

export interface StorefrontOptions {
  /** Event registry (default: the standard topics, under `KAFKA_NAMESPACE` when set); tests pass one with unique topic names. */
  registry?: EventRegistry<BoxofficeEventDefinition>;
  /** Consumer-group namespace (default `storefront`, or `<KAFKA_NAMESPACE>.storefront`); tests pass a unique one. */
  consumerGroupNamespace?: string;
  /**
   * Read-model group id. Default: the one `read_model_state` records (the last rebuild's group), else
   * `<namespace>.read-model`.
   */
  readModelGroupId?: string;
  /**
   * Called after the storefront stopped itself because its read-model lock's connection was lost
   * (read-model-lock.ts); main.ts exits non-zero so a supervisor restarts it.
   */
  onReadModelLockLost?: (reason: string) => void;
}

/**
 * Starts the storefront subgraph: HTTP (GraphQL at /graphql, /healthz, /readyz), the session-denylist
 * consumer and the read-model consumer. It publishes nothing, so it has no outbox and no relay.
 *
 * @throws when the database or Kafka is unreachable at start, or the port is taken; ReadModelBusyError
 *   while a rebuild runs; UnfinishedRebuildError when a rebuild was started and did not finish.
 */
export async function startStorefront(
  env: StorefrontEnv,
  logger: Logger,
  options: StorefrontOptions = {},
): Promise<StorefrontApp> {
  const names = eventNames("storefront", env.KAFKA_NAMESPACE);
  const registry = options.registry ?? names.registry;
  const namespace = options.consumerGroupNamespace ?? names.consumerGroupNamespace;
  const log = eventsLogger(logger);
  const prisma = createPrisma(env.DATABASE_URL);
  await prisma.$queryRaw`SELECT 1`;
  // Before anything else starts: never while a rebuild runs, never on a half-rebuilt read model.
  let servingLock: ReadModelLock | undefined;
  const lifecycle: { stop?: () => Promise<void>; lockLost?: string } = {};
  let readModelGroup: string;
  try {
    servingLock = await lockForServing(env.DATABASE_URL, (reason) => {
      // A rebuild may start any moment now: stop serving and consuming, as a supervisor restart would.
      logger.fatal({ reason }, "lost the read-model lock; stopping the storefront");
      lifecycle.lockLost = reason;
      void (lifecycle.stop?.() ?? Promise.resolve()).then(() => options.onReadModelLockLost?.(reason));
    });
    readModelGroup = options.readModelGroupId ?? (await liveReadModelGroupId(prisma, namespace));
  } catch (error) {
    await servingLock?.release();
    await prisma.$disconnect();
    throw error;
  }

  const kafka = await connectKafka({
    security: kafkaSecurity(env),
    clientId: "storefront",
    brokers: env.KAFKA_BROKERS,
    registry,
    logger: log,
    topics: { partitions: env.KAFKA_TOPIC_PARTITIONS, replicationFactor: env.KAFKA_REPLICATION_FACTOR },
  });

  const sessionAuth = createSubgraphAuth<StorefrontTx>({
    env,
    service: namespace,
    kafka,
    db: prisma,
    transaction: (fn) => prisma.$transaction(fn),
    registry,
    logger: log,
  });
  const { denylist, verifier } = sessionAuth;
  const services = createStorefrontServices(prisma, verifier, logger);
  const readModel = createReadModelConsumer({
    service: namespace,
    groupId: readModelGroup,
    kafka,
    prisma,
    registry,
    logger: log,
  });

  await sessionAuth.signingKeys.start();
  await denylist.start();
  await readModel.start();

  // Read-your-writes (`waitFor` arguments): the consumer groups whose read models the queries read.
  const consistency = new ReadYourWrites(prisma, [readModel], { timeoutMs: env.CONSISTENCY_WAIT_MS });
  const service = await startService<StorefrontContext>({
    name: "storefront",
    port: env.STOREFRONT_PORT,
    gatewaySecret: env.GATEWAY_SHARED_SECRET,
    host: env.STOREFRONT_HOST,
    logger,
    schema: buildSubgraphSchema({ typeDefs, resolvers }),
    context: async ({ req, scope }) => ({
      ...scope,
      ...(await sessionAuth.context({ req })),
      services,
      consistency,
      loaders: { availability: services.availabilityLoader() },
    }),
    readiness: [
      { name: "database", check: async () => (await prisma.$queryRaw`SELECT 1`, true) },
      { name: "session-denylist", check: () => denylist.status().ready },
      { name: "signing-keys", check: () => sessionAuth.signingKeys.status().ready },
      { name: "read-model-consumer", check: () => readModel.status().ready },
      { name: "read-model-lock", check: () => lifecycle.lockLost === undefined },
    ],
    shutdown: [
      { name: "session-denylist consumer", run: async () => void (await denylist.stop()) },
      { name: "signing-keys consumer", run: async () => void (await sessionAuth.signingKeys.stop()) },
      { name: "read-model consumer", run: async () => void (await readModel.stop()) },
      { name: "prisma", run: () => prisma.$disconnect() },
      { name: "read-model lock", run: () => servingLock.release() },
    ],
  });
  lifecycle.stop = service.stop;
  return { service, services, denylist, readModel, stop: service.stop };
}
