import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient, type Prisma } from "./generated/prisma/client.ts";

/** The PostgreSQL schema this subgraph owns. */
export const ORDERS_SCHEMA = "orders";

/**
 * Prisma client on `@prisma/adapter-pg`, confined to the orders schema: model queries use
 * `{ schema }`, raw SQL (outbox, inbox, denylist, ticket replica, expiration worker) resolves unqualified names through
 * `search_path`.
 */
export function createPrisma(databaseUrl: string, onQuery?: (sql: string) => void): PrismaClient {
  const adapter = new PrismaPg(
    { connectionString: databaseUrl, options: `-c search_path=${ORDERS_SCHEMA}`, max: 10 },
    { schema: ORDERS_SCHEMA },
  );
  if (!onQuery) return new PrismaClient({ adapter });
  // Query events let tests count round trips; off in normal runs.
  const client = new PrismaClient({ adapter, log: [{ emit: "event", level: "query" }] });
  client.$on("query", (event) => onQuery(event.query));
  return client;
}

/** Prisma's interactive-transaction client for this schema (what handlers and `publish` get). */
export type OrdersTx = Prisma.TransactionClient;

export type { PrismaClient };
