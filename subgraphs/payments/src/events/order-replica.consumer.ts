import {
  createConsumer,
  type BoxofficeEventDefinition,
  type EventConsumer,
  type EventRegistry,
  type EventsLogger,
} from "@boxoffice/events";
import type { PaymentsTx, PrismaClient } from "../db.ts";
import { orderCancelledHandler } from "./order-cancelled.handler.ts";
import { orderCompletedHandler } from "./order-completed.handler.ts";
import { orderCreatedHandler } from "./order-created.handler.ts";

/**
 * The `<service>.order-replica` consumer: follows the orders topic and applies `order.created`,
 * `order.cancelled` and `order.completed` to the order replica, each message in one Prisma
 * transaction with its inbox row (packages/events consumer: idempotent, ordered per order id, dead
 * letters after retries). Not started: call `start()`.
 */
export function createOrderReplicaConsumer(options: {
  /** Consumer-group namespace, normally `payments` → group `payments.order-replica`. */
  service: string;
  kafka: Parameters<typeof createConsumer>[0]["kafka"];
  prisma: PrismaClient;
  registry: EventRegistry<BoxofficeEventDefinition>;
  logger?: EventsLogger;
}): EventConsumer<BoxofficeEventDefinition, PaymentsTx> {
  return createConsumer<BoxofficeEventDefinition, PaymentsTx>({
    kafka: options.kafka,
    groupId: `${options.service}.order-replica`,
    registry: options.registry,
    transaction: (fn) => options.prisma.$transaction(fn),
    handlers: {
      "order.created": orderCreatedHandler(),
      "order.cancelled": orderCancelledHandler(options.logger),
      "order.completed": orderCompletedHandler(),
    },
    ...(options.logger ? { logger: options.logger } : {}),
  });
}
