/**
 * The storefront's read-model queries. Everything comes from its own tables (fed by events): no
 * other subgraph is called, nothing is written here.
 *
 * Availability of a ticket (`Ticket.availability`, `onlyAvailable`): SOLD when the ticket says SOLD
 * or one of its orders is COMPLETED; else RESERVED when the ticket says RESERVED or one of its orders
 * is PENDING; else AVAILABLE. Order events usually arrive before the ticket's own status change, so
 * they are taken into account at once rather than waiting for `ticket.updated`.
 */
import type { Verifier } from "@boxoffice/auth-verify";
import { isUuid, type Logger } from "@boxoffice/service-kit";
import DataLoader from "dataloader";
import type { PrismaClient } from "./db.ts";
import { Prisma } from "./generated/prisma/client.ts";
import { encodeCursor, HISTORY_MAX, parseListingsArgs, type ListingsArgs } from "./listing-input.ts";

/** An entity by key only (`User`, `Ticket`): the other fields are resolved by the field resolvers. */
export interface EntityRef {
  id: string;
}

export type Availability = "AVAILABLE" | "RESERVED" | "SOLD";

/** A listed ticket as the read model holds it. */
export interface ListingRow {
  id: string;
  title: string;
  priceMinor: number;
  currency: string;
  sellerId: string;
  status: Availability;
  availability: Availability;
  /** When the ticket was listed (its `ticket.created`). */
  listedAt: Date;
  cursor: string;
}

/** One page of listings. */
export interface ListingsPage {
  items: ListingRow[];
  /** Cursor of the last item (pass as `after`), null on an empty page. */
  endCursor: string | null;
  hasNextPage: boolean;
}

/** One order of a buyer's history, with the ticket's title and price as the read model knows them. */
export interface PurchaseRow {
  orderId: string;
  ticketId: string;
  status: "PENDING" | "CANCELLED" | "COMPLETED";
  amountMinor: number;
  currency: string;
  placedAt: Date;
  /** Null while the ticket's events have not arrived. */
  ticketTitle: string | null;
  /** The ticket's current listed price (minor units of `ticketCurrency`); null as above. */
  ticketPriceMinor: number | null;
  ticketCurrency: string | null;
}

/** One ticket a seller sold (its COMPLETED order). */
export interface SaleRow {
  orderId: string;
  ticketId: string;
  ticketTitle: string;
  buyerId: string;
  amountMinor: number;
  currency: string;
  soldAt: Date;
}

/** Revenue in one currency. */
export interface Money {
  amountMinor: number;
  currency: string;
}

/** A seller's sales: every sold ticket, newest first, and the revenue per currency. */
export interface SalesSummary {
  items: SaleRow[];
  /** Sum of `amountMinor` per currency (ISO 4217 order); empty when nothing was sold. */
  totalRevenue: Money[];
}

export interface StorefrontServices {
  prisma: PrismaClient;
  verifier: Verifier;
  logger: Logger;
  /**
   * A page of listings, newest first (keyset on `(listed_at, id)`), matching `filter`: `search` is
   * PostgreSQL full-text search of the title, accents ignored (`websearch_to_tsquery` with the
   * `simple_unaccent` configuration: words, "quoted
   * phrases", `or`, `-excluded`), prices are inclusive bounds in minor units (any currency),
   * `onlyAvailable` keeps AVAILABLE ones.
   * @throws GraphQLError BAD_USER_INPUT, see listing-input.ts `parseListingsArgs`.
   */
  listings(args: ListingsArgs): Promise<ListingsPage>;
  /** `buyerId`'s `first` newest orders, newest first (`first` validated by the caller, 1–100). */
  purchasesOf(buyerId: string, first: number): Promise<PurchaseRow[]>;
  /**
   * `sellerId`'s 100 newest sold tickets (the most `Sales.items(first:)` may show), and the revenue per
   * currency over every sale (aggregated in SQL, not from the page).
   */
  salesOf(sellerId: string): Promise<SalesSummary>;
  /** A DataLoader per request: ticket id → availability, null for a ticket the read model does not know. */
  availabilityLoader(): DataLoader<string, Availability | null>;
}

const AVAILABILITY = Prisma.sql`
  CASE
    WHEN l.status = 'SOLD' OR EXISTS (SELECT 1 FROM orders o WHERE o.ticket_id = l.id AND o.status = 'COMPLETED')
      THEN 'SOLD'
    WHEN l.status = 'RESERVED' OR EXISTS (SELECT 1 FROM orders o WHERE o.ticket_id = l.id AND o.status = 'PENDING')
      THEN 'RESERVED'
    ELSE 'AVAILABLE'
  END`;

interface ListingSqlRow {
  id: string;
  title: string;
  priceMinor: number;
  currency: string;
  sellerId: string;
  status: Availability;
  availability: Availability;
  listedAt: Date;
  micros: string;
}

/** Builds the storefront services around a Prisma client and a verifier. */
export function createStorefrontServices(
  prisma: PrismaClient,
  verifier: Verifier,
  logger: Logger,
): StorefrontServices {
  return {
    prisma,
    verifier,
    logger,

    async listings(args) {
      const q = parseListingsArgs(args);
      const conditions: Prisma.Sql[] = [Prisma.sql`TRUE`];
      if (q.search !== undefined) {
        conditions.push(
          Prisma.sql`l.search @@ websearch_to_tsquery('storefront.simple_unaccent'::regconfig, ${q.search})`,
        );
      }
      if (q.minPrice !== undefined) conditions.push(Prisma.sql`l.price_minor >= ${q.minPrice}`);
      if (q.maxPrice !== undefined) conditions.push(Prisma.sql`l.price_minor <= ${q.maxPrice}`);
      if (q.after) {
        // Exact µs arithmetic: to_timestamp(double) would round.
        conditions.push(
          Prisma.sql`(l.listed_at, l.id) < (timestamptz 'epoch' + ${q.after.listedAtMicros.toString()}::bigint * interval '1 microsecond', ${q.after.id}::uuid)`,
        );
      }
      const availableOnly = q.onlyAvailable ? Prisma.sql`WHERE availability = 'AVAILABLE'` : Prisma.empty;
      const rows = await prisma.$queryRaw<ListingSqlRow[]>`
        SELECT * FROM (
          SELECT l.id::text AS id, l.title, l.price_minor AS "priceMinor", l.currency::text AS currency,
                 l.seller_id::text AS "sellerId", l.status::text AS status, ${AVAILABILITY} AS availability,
                 l.listed_at AS "listedAt",
                 ((extract(epoch FROM l.listed_at) * 1000000)::numeric(20, 0))::text AS micros
          FROM listings l
          WHERE ${Prisma.join(conditions, " AND ")}
        ) page
        ${availableOnly}
        ORDER BY "listedAt" DESC, id DESC
        LIMIT ${q.first + 1}`;
      const hasNextPage = rows.length > q.first;
      const items = rows.slice(0, q.first).map(({ micros, ...row }) => ({
        ...row,
        cursor: encodeCursor({ listedAtMicros: BigInt(micros), id: row.id }),
      }));
      return { items, endCursor: items.at(-1)?.cursor ?? null, hasNextPage };
    },

    async purchasesOf(buyerId, first) {
      return prisma.$queryRaw<PurchaseRow[]>`
        SELECT o.id::text AS "orderId", o.ticket_id::text AS "ticketId", o.status::text AS status,
               o.amount_minor AS "amountMinor", o.currency::text AS currency, o.placed_at AS "placedAt",
               l.title AS "ticketTitle", l.price_minor AS "ticketPriceMinor", l.currency::text AS "ticketCurrency"
        FROM orders o LEFT JOIN listings l ON l.id = o.ticket_id
        WHERE o.buyer_id = ${buyerId}::uuid
        ORDER BY o.placed_at DESC, o.id DESC
        LIMIT ${first}`;
    },

    async salesOf(sellerId) {
      const items = await prisma.$queryRaw<SaleRow[]>`
        SELECT o.id::text AS "orderId", o.ticket_id::text AS "ticketId", l.title AS "ticketTitle",
               o.buyer_id::text AS "buyerId", o.amount_minor AS "amountMinor", o.currency::text AS currency,
               o.placed_at AS "soldAt"
        FROM orders o JOIN listings l ON l.id = o.ticket_id
        WHERE l.seller_id = ${sellerId}::uuid AND o.status = 'COMPLETED'
        ORDER BY o.placed_at DESC, o.id DESC
        LIMIT ${HISTORY_MAX}`;
      const totals = await prisma.$queryRaw<Array<{ currency: string; amountMinor: bigint }>>`
        SELECT o.currency::text AS currency, sum(o.amount_minor)::bigint AS "amountMinor"
        FROM orders o JOIN listings l ON l.id = o.ticket_id
        WHERE l.seller_id = ${sellerId}::uuid AND o.status = 'COMPLETED'
        GROUP BY o.currency ORDER BY o.currency COLLATE "C"`;
      const totalRevenue = totals.map(({ currency, amountMinor }) => ({
        currency,
        amountMinor: Number(amountMinor),
      }));
      return { items, totalRevenue };
    },

    availabilityLoader() {
      return new DataLoader<string, Availability | null>(async (ids) => {
        const valid = ids.filter(isUuid).map((id) => id.toLowerCase());
        const rows = valid.length
          ? await prisma.$queryRaw<Array<{ id: string; availability: Availability }>>`
              SELECT l.id::text AS id, ${AVAILABILITY} AS availability
              FROM listings l WHERE l.id = ANY(${valid}::uuid[])`
          : [];
        const byId = new Map(rows.map((r) => [r.id, r.availability]));
        return ids.map((id) => (isUuid(id) ? (byId.get(id.toLowerCase()) ?? null) : null));
      });
    },
  };
}
