import path from "node:path";
import { fileURLToPath } from "node:url";
import { SUBGRAPH_DECLARATIONS, subgraphUrl } from "@boxoffice/topology";
import type { SubgraphSource } from "./compose.ts";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/**
 * The subgraphs of the Boxoffice supergraph, from the topology (`@boxoffice/topology`, declared once in
 * packages/topology/topology.json), each with its default local URL (its declared port on 127.0.0.1)
 * and its SDL file `subgraphs/<name>/src/schema.graphql`. Runtime URLs can be overridden with
 * SUBGRAPH_URL_<NAME>.
 */
export const SUBGRAPHS: SubgraphSource[] = SUBGRAPH_DECLARATIONS.map((s) => ({
  name: s.name,
  url: subgraphUrl(s),
  schemaPath: path.join(root, "subgraphs", s.name, "src", "schema.graphql"),
}));
