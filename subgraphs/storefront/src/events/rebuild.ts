import {
  rebuildReadModel,
  type BoxofficeEventDefinition,
  type EventRegistry,
  type EventsLogger,
  type RebuildResult,
} from "@boxoffice/events";
import type { createConsumer } from "@boxoffice/events";
import type { PrismaClient, StorefrontTx } from "../db.ts";
import { readModelGroupId, readModelHandlers } from "./read-model.consumer.ts";

/** The read model's tables, emptied before a rebuild (the inbox is not: the rebuild has its own group). */
export const READ_MODEL_TABLES = ["listings", "orders", "payments", "users"] as const;

/**
 * Rebuilds the read model from the topics: empties its tables, then replays every followed topic
 * from offset 0 under a new consumer group (`storefront.read-model.rebuild-<ms>`) with the live
 * handlers, until the end offsets seen at start (packages/events `rebuildReadModel`). Stop the live
 * consumer first; afterwards continue live consumption under the returned `groupId`.
 *
 * @throws whatever `rebuildReadModel` throws (not caught up in `timeoutMs`, Kafka unreachable).
 */
export async function rebuildStorefront(options: {
  kafka: Parameters<typeof createConsumer>[0]["kafka"];
  prisma: PrismaClient;
  registry: EventRegistry<BoxofficeEventDefinition>;
  /** Consumer-group namespace of the live group (normally `storefront`). */
  service: string;
  timeoutMs?: number;
  logger?: EventsLogger;
}): Promise<RebuildResult> {
  const { prisma } = options;
  return rebuildReadModel<BoxofficeEventDefinition, StorefrontTx>({
    kafka: options.kafka,
    registry: options.registry,
    groupId: readModelGroupId(options.service),
    transaction: (fn) => prisma.$transaction(fn),
    handlers: readModelHandlers(),
    prepare: async () => {
      await prisma.$executeRawUnsafe(`TRUNCATE ${READ_MODEL_TABLES.join(", ")}`);
    },
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  });
}
