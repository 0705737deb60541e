import { readFileSync } from "node:fs";
import path from "node:path";
import { subgraphEnv, verifyingSubgraphEnv } from "@boxoffice/service-kit";
import { SUBGRAPH_NAMES, subgraphUrlVariable } from "@boxoffice/topology";

/**
 * The variables deployable `dir`'s env schema declares: the fields written in its `src/env.ts`, plus
 * those of the service-kit fragment it builds on (`subgraphEnv` / `verifyingSubgraphEnv`, read from
 * the fragment's own zod shape), plus the gateway's `SUBGRAPH_URL_<NAME>` derived from the topology.
 *
 * @param root the repository root; `dir` is relative to it (`gateway`, `subgraphs/tickets`).
 */
export function schemaKeys(root: string, dir: string): string[] {
  const source = readFileSync(path.join(root, dir, "src", "env.ts"), "utf8");
  const own = [...source.matchAll(/^\s+([A-Z][A-Z0-9_]+):/gm)].map((m) => m[1]!);
  const fragment = /\b(verifyingSubgraphEnv|subgraphEnv)\("([a-z0-9]+)"/.exec(source);
  const shared = !fragment
    ? []
    : Object.keys(
        fragment[1] === "verifyingSubgraphEnv"
          ? verifyingSubgraphEnv(fragment[2]!).shape
          : subgraphEnv(fragment[2]!, {}).shape,
      );
  const derived = dir === "gateway" ? SUBGRAPH_NAMES.map(subgraphUrlVariable) : [];
  return [...own, ...shared, ...derived];
}
