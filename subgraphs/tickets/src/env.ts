import { loadEnv, verifyingSubgraphEnv } from "@boxoffice/service-kit";
import type { z } from "zod";

/** Every subgraph's variables and the session-verifying ones (service-kit's subgraph-env.ts); nothing of its own. */
const schema = verifyingSubgraphEnv("tickets");

export type TicketsEnv = z.infer<typeof schema>;

/** The tickets subgraph's validated configuration (the only reader of `process.env`). */
export function ticketsEnv(source: NodeJS.ProcessEnv = process.env): TicketsEnv {
  return loadEnv(schema, source);
}
