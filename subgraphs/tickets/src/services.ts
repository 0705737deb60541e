/**
 * The tickets subgraph's domain operations. Resolvers call these; they validate, check ownership,
 * and change a ticket and write its event in ONE transaction (transactional outbox).
 */
import type { Verifier } from "@boxoffice/auth-verify";
import { forbiddenError } from "@boxoffice/auth-verify";
import type { BoxofficeEventDefinition, Publisher } from "@boxoffice/events";
import { conflict, isUuid, notFound, type Logger } from "@boxoffice/service-kit";
import DataLoader from "dataloader";
import { v7 as uuidv7 } from "uuid";
import type { PrismaClient } from "./db.ts";
import { publishTicketState } from "./events/ticket-events.ts";
import type { Ticket } from "./generated/prisma/client.ts";
import { parseCurrency, parsePage, parsePriceMinor, parseTicketId, parseTitle } from "./ticket-input.ts";

/** `createTicket` input as the client sends it (validated here). */
export interface CreateTicketInput {
  title: string;
  priceMinor: number;
  currency: string;
}

/** `updateTicket` input: an absent or null field stays as it is. */
export interface UpdateTicketInput {
  title?: string | null;
  priceMinor?: number | null;
  currency?: string | null;
}

/** Everything a resolver of the tickets subgraph needs, built once per process. */
export interface TicketsServices {
  prisma: PrismaClient;
  verifier: Verifier;
  logger: Logger;
  /**
   * Lists a ticket (AVAILABLE, version 1) for `sellerId` and writes `ticket.created`.
   * @throws GraphQLError BAD_USER_INPUT (`extensions.field`) for an invalid field; nothing is written.
   */
  createTicket(sellerId: string, input: CreateTicketInput): Promise<Ticket>;
  /**
   * Changes `userId`'s ticket `id` (version + 1) and writes `ticket.updated`; returns the ticket as it
   * is when nothing would change.
   * @throws GraphQLError BAD_USER_INPUT (malformed id, invalid field), NOT_FOUND (no such ticket),
   *   FORBIDDEN (not the seller), CONFLICT (`extensions.reason`: TICKET_RESERVED or TICKET_SOLD); nothing is written.
   */
  updateTicket(userId: string, id: string, input: UpdateTicketInput): Promise<Ticket>;
  /**
   * One ticket or null.
   * @throws GraphQLError BAD_USER_INPUT for a malformed id.
   */
  ticket(id: string): Promise<Ticket | null>;
  /**
   * A page of tickets, newest first, after the ticket `after` (keyset on the time-ordered id).
   * @throws GraphQLError BAD_USER_INPUT for `first` outside 1–100 or a malformed `after`.
   */
  tickets(first: number | null | undefined, after: string | null | undefined): Promise<Ticket[]>;
  /** A DataLoader per request: batches `Ticket` lookups by id into one query; unknown/malformed ids → null. */
  ticketLoader(): DataLoader<string, Ticket | null>;
}

/** Builds the tickets services around a Prisma client, a verifier and the event publisher. */
export function createTicketsServices(
  prisma: PrismaClient,
  verifier: Verifier,
  publisher: Publisher<BoxofficeEventDefinition>,
  logger: Logger,
): TicketsServices {
  return {
    prisma,
    verifier,
    logger,
    async createTicket(sellerId, input) {
      const data = {
        title: parseTitle(input.title),
        priceMinor: parsePriceMinor(input.priceMinor),
        currency: parseCurrency(input.currency),
      };
      // UUIDv7: time-ordered, so the keyset order of `tickets` is listing order (RFC 9562 §5.7).
      const id = uuidv7();
      return prisma.$transaction(async (tx) => {
        const ticket = await tx.ticket.create({ data: { id, sellerId, ...data } });
        await publishTicketState(tx, publisher, ticket);
        return ticket;
      });
    },

    async updateTicket(userId, rawId, input) {
      const id = parseTicketId(rawId);
      const changes: Partial<Pick<Ticket, "title" | "priceMinor" | "currency">> = {};
      if (input.title != null) changes.title = parseTitle(input.title);
      if (input.priceMinor != null) changes.priceMinor = parsePriceMinor(input.priceMinor);
      if (input.currency != null) changes.currency = parseCurrency(input.currency);
      return prisma.$transaction(async (tx) => {
        // Row lock: concurrent updates and order events of this ticket take turns, so versions
        // are assigned in commit order (what the relay's per-aggregate ordering relies on).
        await tx.$queryRaw`SELECT 1 FROM tickets WHERE id = ${id}::uuid FOR UPDATE`;
        const ticket = await tx.ticket.findUnique({ where: { id } });
        if (!ticket) throw notFound("No ticket with this id.");
        // Ownership is checked on the loaded ticket, not on an argument (OWASP API1:2023).
        if (ticket.sellerId !== userId) throw forbiddenError("Only the seller can change this ticket.");
        if (ticket.status !== "AVAILABLE") {
          throw conflict(
            ticket.status === "RESERVED"
              ? "This ticket is reserved by an order and cannot be changed now."
              : "This ticket is sold and can no longer be changed.",
            ticket.status === "RESERVED" ? "TICKET_RESERVED" : "TICKET_SOLD",
          );
        }
        const changed = (Object.keys(changes) as Array<keyof typeof changes>).some(
          (key) => changes[key] !== ticket[key],
        );
        if (!changed) return ticket;
        const updated = await tx.ticket.update({
          where: { id },
          data: { ...changes, version: { increment: 1 }, updatedAt: new Date() },
        });
        await publishTicketState(tx, publisher, updated);
        return updated;
      });
    },

    async ticket(rawId) {
      const id = parseTicketId(rawId);
      return prisma.ticket.findUnique({ where: { id } });
    },

    async tickets(rawFirst, rawAfter) {
      const { first, after } = parsePage(rawFirst, rawAfter);
      return prisma.ticket.findMany({
        where: after ? { id: { lt: after } } : {},
        orderBy: { id: "desc" },
        take: first,
      });
    },

    ticketLoader() {
      return new DataLoader<string, Ticket | null>(async (ids) => {
        const valid = ids.filter(isUuid).map((id) => id.toLowerCase());
        const tickets = valid.length ? await prisma.ticket.findMany({ where: { id: { in: valid } } }) : [];
        const byId = new Map(tickets.map((t) => [t.id, t]));
        return ids.map((id) => (isUuid(id) ? (byId.get(id.toLowerCase()) ?? null) : null));
      });
    },
  };
}
