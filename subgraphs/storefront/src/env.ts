import { loadEnv, verifyingSubgraphEnv } from "@boxoffice/service-kit";
import type { z } from "zod";

/** Every subgraph's variables and the session-verifying ones (service-kit's subgraph-env.ts); nothing of its own. */
const schema = verifyingSubgraphEnv("storefront");

export type StorefrontEnv = z.infer<typeof schema>;

/** The storefront subgraph's validated configuration (the only reader of `process.env`). */
export function storefrontEnv(source: NodeJS.ProcessEnv = process.env): StorefrontEnv {
  return loadEnv(schema, source);
}
