import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient, type Prisma } from "./generated/prisma/client.ts";

/** The PostgreSQL schema this subgraph owns. */
export const STOREFRONT_SCHEMA = "storefront";

/**
 * Prisma client on `@prisma/adapter-pg`, confined to the storefront schema: model queries use
 * `{ schema }`, raw SQL (inbox, applyIfNewer, the read-model queries) resolves unqualified names
 * through `search_path`.
 */
export function createPrisma(databaseUrl: string): PrismaClient {
  const adapter = new PrismaPg(
    { connectionString: databaseUrl, options: `-c search_path=${STOREFRONT_SCHEMA}`, max: 10 },
    { schema: STOREFRONT_SCHEMA },
  );
  return new PrismaClient({ adapter });
}

/** Prisma's interactive-transaction client for this schema (what event handlers get). */
export type StorefrontTx = Prisma.TransactionClient;

export type { PrismaClient };
