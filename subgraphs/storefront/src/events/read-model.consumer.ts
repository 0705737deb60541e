import {
  createConsumer,
  type BoxofficeEventDefinition,
  type EventConsumer,
  type EventRegistry,
  type EventsLogger,
} from "@boxoffice/events";
import type { PrismaClient, StorefrontTx } from "../db.ts";
import { orderCancelledHandler } from "./order-cancelled.handler.ts";
import { orderCompletedHandler } from "./order-completed.handler.ts";
import { orderCreatedHandler } from "./order-created.handler.ts";
import { paymentFailedHandler } from "./payment-failed.handler.ts";
import { paymentSucceededHandler } from "./payment-succeeded.handler.ts";
import { ticketCreatedHandler } from "./ticket-created.handler.ts";
import { ticketUpdatedHandler } from "./ticket-updated.handler.ts";
import { userRegisteredHandler } from "./user-registered.handler.ts";

/** Every event the read model follows, with its handler (the live consumer and the rebuild share it). */
export function readModelHandlers() {
  return {
    "user.registered": userRegisteredHandler(),
    "ticket.created": ticketCreatedHandler(),
    "ticket.updated": ticketUpdatedHandler(),
    "order.created": orderCreatedHandler(),
    "order.cancelled": orderCancelledHandler(),
    "order.completed": orderCompletedHandler(),
    "payment.succeeded": paymentSucceededHandler(),
    "payment.failed": paymentFailedHandler(),
  };
}

/** The read model's consumer group: `<namespace>.read-model` (normally `storefront.read-model`). */
export function readModelGroupId(namespace: string): string {
  return `${namespace}.read-model`;
}

/**
 * The `<service>.read-model` consumer: follows the accounts, tickets, orders and payments topics and
 * applies each message in one Prisma transaction with its inbox row (packages/events consumer:
 * idempotent, ordered per aggregate id, dead letters after retries). Not started: call `start()`.
 */
export function createReadModelConsumer(options: {
  /** Consumer-group namespace, normally `storefront` → group `storefront.read-model`. */
  service: string;
  /** Overrides the group id (after a rebuild: continue under the rebuild's group). */
  groupId?: string;
  kafka: Parameters<typeof createConsumer>[0]["kafka"];
  prisma: PrismaClient;
  registry: EventRegistry<BoxofficeEventDefinition>;
  logger?: EventsLogger;
}): EventConsumer<BoxofficeEventDefinition, StorefrontTx> {
  return createConsumer<BoxofficeEventDefinition, StorefrontTx>({
    kafka: options.kafka,
    groupId: options.groupId ?? readModelGroupId(options.service),
    registry: options.registry,
    transaction: (fn) => options.prisma.$transaction(fn),
    handlers: readModelHandlers(),
    ...(options.logger ? { logger: options.logger } : {}),
  });
}
