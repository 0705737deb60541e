import {
  createConsumer,
  type BoxofficeEventDefinition,
  type EventConsumer,
  type EventRegistry,
  type EventsLogger,
  type Publisher,
} from "@boxoffice/events";
import type { OrdersTx, PrismaClient } from "../db.ts";
import { paymentFailedHandler } from "./payment-failed.handler.ts";
import { paymentRefundedHandler } from "./payment-refunded.handler.ts";
import { paymentSucceededHandler } from "./payment-succeeded.handler.ts";

/**
 * The `<service>.payments` consumer: follows the payments topic and applies `payment.succeeded`,
 * `payment.failed` and `payment.refunded` to orders, each message in one Prisma transaction with its inbox row and any
 * `order.completed` outbox row (packages/events consumer: idempotent, ordered per payment id, dead
 * letters after retries). Not started: call `start()`.
 */
export function createPaymentsConsumer(options: {
  /** Consumer-group namespace, normally `orders` → group `orders.payments`. */
  service: string;
  kafka: Parameters<typeof createConsumer>[0]["kafka"];
  prisma: PrismaClient;
  registry: EventRegistry<BoxofficeEventDefinition>;
  publisher: Publisher<BoxofficeEventDefinition>;
  logger?: EventsLogger;
}): EventConsumer<BoxofficeEventDefinition, OrdersTx> {
  return createConsumer<BoxofficeEventDefinition, OrdersTx>({
    kafka: options.kafka,
    groupId: `${options.service}.payments`,
    registry: options.registry,
    transaction: (fn) => options.prisma.$transaction(fn),
    handlers: {
      "payment.succeeded": paymentSucceededHandler(options.publisher, options.logger),
      "payment.failed": paymentFailedHandler(options.publisher, options.logger),
      "payment.refunded": paymentRefundedHandler(options.logger),
    },
    ...(options.logger ? { logger: options.logger } : {}),
  });
}
