import { ReadYourWrites, type BoxofficeEventDefinition, type EventConsumer } from "@boxoffice/events";
import type { Logger } from "@boxoffice/service-kit";
import {
  startSubgraph,
  type SubgraphOverrides,
  type VerifyingSubgraphApp,
} from "@boxoffice/service-kit/subgraph";
import type { StorefrontContext } from "./context.ts";
import { createPrisma, type StorefrontTx } from "./db.ts";
import type { StorefrontEnv } from "./env.ts";
import { lockForServing } from "./events/read-model-lock.ts";
import { liveReadModelGroupId } from "./events/read-model-state.ts";
import { createReadModelConsumer } from "./events/read-model.consumer.ts";
import { resolvers } from "./resolvers/index.ts";
import { createStorefrontServices, type StorefrontServices } from "./services.ts";

export interface StorefrontApp extends VerifyingSubgraphApp {
  services: StorefrontServices;
  /** The read-model consumer (`<namespace>.read-model`). */
  readModel: EventConsumer<BoxofficeEventDefinition, StorefrontTx>;
}

/** Test overrides (`SubgraphOverrides`: onQuery, registry, consumer-group namespace) and its own. */
export interface StorefrontOptions extends SubgraphOverrides {
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
 * Starts the storefront subgraph (service-kit's `startSubgraph`: HTTP with /graphql, /healthz,
 * /readyz, session verification) with its read-model consumer, under the read-model lock. It
 * publishes nothing, so it has no outbox and no relay.
 *
 * @throws when the database or Kafka is unreachable at start, or the port is taken; ReadModelBusyError
 *   while a rebuild runs; UnfinishedRebuildError when a rebuild was started and did not finish.
 */
export async function startStorefront(
  env: StorefrontEnv,
  logger: Logger,
  options: StorefrontOptions = {},
): Promise<StorefrontApp> {
  const prisma = createPrisma(env.DATABASE_URL);
  const lifecycle: { stop?: () => Promise<void>; lockLost?: string } = {};
  const { parts, ...app } = await startSubgraph({
    name: "storefront",
    env,
    logger,
    schema: new URL("./schema.graphql", import.meta.url),
    resolvers,
    prisma,
    overrides: options,
    verifySessions: true,
    setup: async ({ auth, consumerOptions, namespace }) => {
      // Before any consumer starts: never while a rebuild runs, never on a half-rebuilt read model.
      const servingLock = await lockForServing(env.DATABASE_URL, (reason) => {
        // A rebuild may start any moment now: stop serving and consuming, as a supervisor restart would.
        logger.fatal({ reason }, "lost the read-model lock; stopping the storefront");
        lifecycle.lockLost = reason;
        void (lifecycle.stop?.() ?? Promise.resolve()).then(() => options.onReadModelLockLost?.(reason));
      });
      let groupId: string;
      try {
        groupId = options.readModelGroupId ?? (await liveReadModelGroupId(prisma, namespace));
      } catch (error) {
        await servingLock.release();
        throw error;
      }
      const services = createStorefrontServices(prisma, auth.verifier, logger);
      const readModel = createReadModelConsumer({ ...consumerOptions, groupId, prisma });
      // Read-your-writes (`waitFor` arguments): the consumer groups whose read models the queries read.
      const consistency = new ReadYourWrites(prisma, [readModel], { timeoutMs: env.CONSISTENCY_WAIT_MS });
      return {
        services,
        readModel,
        consumers: { "read-model-consumer": readModel },
        readiness: [{ name: "read-model-lock", check: () => lifecycle.lockLost === undefined }],
        shutdown: [{ name: "read-model lock", run: () => servingLock.release() }],
        context: ({ base }): StorefrontContext => ({
          ...base,
          consistency,
          services,
          loaders: { availability: services.availabilityLoader() },
        }),
      };
    },
  });
  lifecycle.stop = app.stop;
  return { ...app, services: parts.services, readModel: parts.readModel };
}
