/**
 * The Boxoffice topology, declared once in `packages/topology/topology.json` (CONVENTIONS.md: declare
 * a fact once and derive the rest): the gateway's port and, per subgraph, its name, its default port
 * and the aggregate types whose events it publishes and consumes. The gateway's subgraph list and its
 * `SUBGRAPH_URL_<NAME>` variables, the platform's ports and the e2e tests derive from it; the files that
 * cannot import it (docker-compose.yml, deploy/kubernetes, the README) are checked against it by tests
 * (packages/platform/test, packages/topology/test). `pnpm new:subgraph NAME` adds an entry.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { z } from "zod";

/** Where the declaration lives (absolute path); the same file from `src/` and from the compiled `dist/`. */
export const TOPOLOGY_FILE = fileURLToPath(new URL("../topology.json", import.meta.url));

/**
 * A subgraph name: lower-case letters and digits, starting with a letter, 2 to 30 characters. It is also
 * the folder (`subgraphs/<name>`), the package (`@boxoffice/<name>`), the PostgreSQL schema, the compose
 * service and the prefix of its variables (`<NAME>_PORT`), so it must be valid in all of them.
 */
export const SUBGRAPH_NAME = /^[a-z][a-z0-9]{1,29}$/;
/** An aggregate type as `@boxoffice/events` names them (`ticket`, `signing-key`). */
const AGGREGATE = /^[a-z][a-z0-9-]*$/;

const port = z.number().int().min(1024).max(65_535);

const subgraphSchema = z.strictObject({
  name: z
    .string()
    .regex(SUBGRAPH_NAME, "lower-case letters and digits, starting with a letter, 2 to 30 characters")
    .refine((name) => name !== "gateway", "`gateway` is the gateway's name"),
  /** Default listen port (`<NAME>_PORT`), also its port in compose and Kubernetes. */
  port,
  /** Aggregate types whose events it publishes (topics `boxoffice.<aggregate>s.v1`, see @boxoffice/events). */
  publishes: z.array(z.string().regex(AGGREGATE)),
  /** Aggregate types whose events it consumes into tables it owns. */
  consumes: z.array(z.string().regex(AGGREGATE)),
});

const topologySchema = z
  .strictObject({
    gateway: z.strictObject({ port }),
    subgraphs: z.array(subgraphSchema).min(1),
  })
  .superRefine((topology, ctx) => {
    const ports = new Map<number, string>([[topology.gateway.port, "gateway"]]);
    const names = new Set<string>();
    const publishers = new Map<string, string>();
    topology.subgraphs.forEach((s, i) => {
      if (names.has(s.name))
        ctx.addIssue({
          code: "custom",
          path: ["subgraphs", i, "name"],
          message: `${s.name} is declared twice`,
        });
      names.add(s.name);
      const taken = ports.get(s.port);
      if (taken)
        ctx.addIssue({
          code: "custom",
          path: ["subgraphs", i, "port"],
          message: `${s.name}: port ${s.port} is ${taken}'s`,
        });
      ports.set(s.port, s.name);
      for (const aggregate of s.publishes) {
        const other = publishers.get(aggregate);
        if (other) {
          ctx.addIssue({
            code: "custom",
            path: ["subgraphs", i, "publishes"],
            message: `${s.name}: aggregate ${aggregate} is ${other}'s (one owner per aggregate)`,
          });
        }
        publishers.set(aggregate, s.name);
      }
    });
  });

/** One subgraph of the topology. */
export type SubgraphDeclaration = z.infer<typeof subgraphSchema>;
/** The whole declaration (the shape of topology.json). */
export type Topology = z.infer<typeof topologySchema>;

/** A topology.json that breaks a rule; `problems` lists every one (`path: message`). */
export class TopologyError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid topology (${TOPOLOGY_FILE}):\n  ${problems.join("\n  ")}`);
    this.name = "TopologyError";
  }
}

/**
 * Validates a parsed topology.json: names (see SUBGRAPH_NAME) and ports (1024-65535) unique, the
 * gateway's port included, and each aggregate published by one subgraph only.
 *
 * @throws TopologyError listing every problem at once.
 */
export function parseTopology(json: unknown): Topology {
  const result = topologySchema.safeParse(json);
  if (!result.success) {
    throw new TopologyError(result.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`));
  }
  return result.data;
}

/**
 * Reads and validates topology.json.
 *
 * @param file default TOPOLOGY_FILE (another checkout's file, e.g. in the generator's tests).
 * @throws TopologyError when it breaks a rule; Node's ENOENT or SyntaxError when missing or not JSON.
 */
export function loadTopology(file: string = TOPOLOGY_FILE): Topology {
  return parseTopology(JSON.parse(readFileSync(file, "utf8")));
}

/** The topology of this checkout, read once. */
export const TOPOLOGY: Topology = loadTopology();

/** Every subgraph, in declaration order (the order processes start and supergraphs list them). */
export const SUBGRAPH_DECLARATIONS: readonly SubgraphDeclaration[] = TOPOLOGY.subgraphs;

/** Every subgraph's name, in declaration order. */
export const SUBGRAPH_NAMES: readonly string[] = TOPOLOGY.subgraphs.map((s) => s.name);

/** The gateway's default port. */
export const GATEWAY_PORT: number = TOPOLOGY.gateway.port;

/**
 * The declaration of subgraph `name`.
 *
 * @throws Error when no subgraph of that name is declared.
 */
export function subgraphDeclaration(name: string, topology: Topology = TOPOLOGY): SubgraphDeclaration {
  const found = topology.subgraphs.find((s) => s.name === name);
  if (!found)
    throw new Error(
      `no subgraph "${name}" in the topology (${topology.subgraphs.map((s) => s.name).join(", ")})`,
    );
  return found;
}

/** The prefix of a subgraph's own variables: `tickets` → `TICKETS` (CONVENTIONS.md: `<SERVICE>_`). */
export function envPrefix(name: string): string {
  return name.toUpperCase();
}

/** The variable holding a subgraph's listen port: `tickets` → `TICKETS_PORT`. */
export function portVariable(name: string): string {
  return `${envPrefix(name)}_PORT`;
}

/** The gateway's per-subgraph URL override: `tickets` → `SUBGRAPH_URL_TICKETS`. */
export function subgraphUrlVariable(name: string): string {
  return `SUBGRAPH_URL_${envPrefix(name)}`;
}

/** A subgraph's GraphQL endpoint on `host` (default loopback) at its declared port. */
export function subgraphUrl(subgraph: SubgraphDeclaration, host = "127.0.0.1"): string {
  return `http://${host}:${subgraph.port}/graphql`;
}

/**
 * The topology with one more subgraph, on the next free port (one above the highest declared).
 *
 * @throws TopologyError when the name is taken or invalid, or an aggregate it publishes has an owner.
 */
export function withSubgraph(
  topology: Topology,
  subgraph: { name: string; publishes?: string[]; consumes?: string[] },
): { topology: Topology; added: SubgraphDeclaration } {
  const next = Math.max(topology.gateway.port, ...topology.subgraphs.map((s) => s.port)) + 1;
  const added = {
    name: subgraph.name,
    port: next,
    publishes: subgraph.publishes ?? [],
    consumes: subgraph.consumes ?? [],
  };
  return { topology: parseTopology({ ...topology, subgraphs: [...topology.subgraphs, added] }), added };
}
