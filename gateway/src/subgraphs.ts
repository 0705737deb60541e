import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { SubgraphSource } from "./compose.ts";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/**
 * The subgraphs of the Boxoffice supergraph with their default local URLs (ports 4001…). A
 * subgraph is included once its `src/schema.graphql` exists, so the supergraph grows as subgraphs
 * land. Runtime URLs can be overridden with SUBGRAPH_URL_<NAME>.
 */
export const SUBGRAPHS: SubgraphSource[] = [
  { name: "accounts", port: 4001 },
  { name: "tickets", port: 4002 },
  { name: "orders", port: 4003 },
  { name: "payments", port: 4004 },
  { name: "storefront", port: 4005 },
]
  .map(({ name, port }) => ({
    name,
    url: `http://127.0.0.1:${port}/graphql`,
    schemaPath: path.join(root, "subgraphs", name, "src", "schema.graphql"),
  }))
  .filter((s) => existsSync(s.schemaPath));
