import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient, type Prisma } from "./generated/prisma/client.ts";

/** The PostgreSQL schema this subgraph owns. */
export const PAYMENTS_SCHEMA = "payments";

/**
 * Prisma client on `@prisma/adapter-pg`, confined to the payments schema: model queries use
 * `{ schema }`, raw SQL (outbox, inbox, denylist, order replica, payment claims) resolves unqualified names through
 * `search_path`.
 */
export function createPrisma(databaseUrl: string, onQuery?: (sql: string) => void): PrismaClient {
  const adapter = new PrismaPg(
    { connectionString: databaseUrl, options: `-c search_path=${PAYMENTS_SCHEMA}`, max: 10 },
    { schema: PAYMENTS_SCHEMA },
  );
  if (!onQuery) return new PrismaClient({ adapter });
  // Query events let tests count round trips; off in normal runs.
  const client = new PrismaClient({ adapter, log: [{ emit: "event", level: "query" }] });
  client.$on("query", (event) => onQuery(event.query));
  return client;
}

/** Prisma's interactive-transaction client for this schema (what handlers and `publish` get). */
export type PaymentsTx = Prisma.TransactionClient;

export type { PrismaClient };
