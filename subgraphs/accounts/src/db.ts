import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "./generated/prisma/client.ts";

/** The PostgreSQL schema this subgraph owns. */
export const ACCOUNTS_SCHEMA = "accounts";

/**
 * Prisma client on `@prisma/adapter-pg`, confined to the accounts schema: model queries use
 * `{ schema }`, raw SQL (outbox, inbox) resolves unqualified names through `search_path`.
 */
export function createPrisma(databaseUrl: string, onQuery?: (sql: string) => void): PrismaClient {
  const adapter = new PrismaPg(
    { connectionString: databaseUrl, options: `-c search_path=${ACCOUNTS_SCHEMA}`, max: 10 },
    { schema: ACCOUNTS_SCHEMA },
  );
  if (!onQuery) return new PrismaClient({ adapter });
  // Query events let tests count round trips (the N+1 check); off in normal runs.
  const client = new PrismaClient({ adapter, log: [{ emit: "event", level: "query" }] });
  client.$on("query", (event) => onQuery(event.query));
  return client;
}

export type { PrismaClient };
