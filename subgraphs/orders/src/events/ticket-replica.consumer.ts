import {
  createConsumer,
  type BoxofficeEventDefinition,
  type EventConsumer,
  type EventRegistry,
  type EventsLogger,
} from "@boxoffice/events";
import type { OrdersTx, PrismaClient } from "../db.ts";
import { ticketCreatedHandler } from "./ticket-created.handler.ts";
import { ticketUpdatedHandler } from "./ticket-updated.handler.ts";

/**
 * The `<service>.ticket-replica` consumer: follows the tickets topic and applies `ticket.created` and
 * `ticket.updated` to the local ticket replica, each message in one Prisma transaction with its inbox
 * row (packages/events consumer: idempotent, ordered per ticket id, dead letters after retries).
 * Not started: call `start()`.
 */
export function createTicketReplicaConsumer(options: {
  /** Consumer-group namespace, normally `orders` → group `orders.ticket-replica`. */
  service: string;
  kafka: Parameters<typeof createConsumer>[0]["kafka"];
  prisma: PrismaClient;
  registry: EventRegistry<BoxofficeEventDefinition>;
  logger?: EventsLogger;
}): EventConsumer<BoxofficeEventDefinition, OrdersTx> {
  return createConsumer<BoxofficeEventDefinition, OrdersTx>({
    kafka: options.kafka,
    groupId: `${options.service}.ticket-replica`,
    registry: options.registry,
    transaction: (fn) => options.prisma.$transaction(fn),
    handlers: {
      "ticket.created": ticketCreatedHandler(),
      "ticket.updated": ticketUpdatedHandler(),
    },
    ...(options.logger ? { logger: options.logger } : {}),
  });
}
