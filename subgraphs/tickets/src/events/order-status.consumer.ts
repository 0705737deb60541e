import {
  createConsumer,
  type BoxofficeEventDefinition,
  type EventConsumer,
  type EventRegistry,
  type EventsLogger,
  type Publisher,
} from "@boxoffice/events";
import type { PrismaClient, TicketsTx } from "../db.ts";
import { orderCancelledHandler } from "./order-cancelled.handler.ts";
import { orderCompletedHandler } from "./order-completed.handler.ts";
import { orderCreatedHandler } from "./order-created.handler.ts";

/**
 * The `<service>.order-status` consumer: follows the orders topic and applies `order.created`,
 * `order.cancelled` and `order.completed` to ticket statuses, each message in one Prisma transaction
 * with its inbox row (packages/events consumer: idempotent, ordered per order id, dead letters after
 * retries). Not started: call `start()`.
 */
export function createOrderStatusConsumer(options: {
  /** Consumer-group namespace, normally `tickets` → group `tickets.order-status`. */
  service: string;
  kafka: Parameters<typeof createConsumer>[0]["kafka"];
  prisma: PrismaClient;
  registry: EventRegistry<BoxofficeEventDefinition>;
  publisher: Publisher<BoxofficeEventDefinition>;
  logger?: EventsLogger;
}): EventConsumer<BoxofficeEventDefinition, TicketsTx> {
  return createConsumer<BoxofficeEventDefinition, TicketsTx>({
    kafka: options.kafka,
    groupId: `${options.service}.order-status`,
    registry: options.registry,
    transaction: (fn) => options.prisma.$transaction(fn),
    handlers: {
      "order.created": orderCreatedHandler(options.publisher),
      "order.cancelled": orderCancelledHandler(options.publisher),
      "order.completed": orderCompletedHandler(options.publisher),
    },
    ...(options.logger ? { logger: options.logger } : {}),
  });
}
