/**
 * Writes a new subgraph folder from `template/`, registers it in the topology
 * (packages/topology/topology.json) and in the deployment files (docker-compose.yml,
 * deploy/kubernetes, the README's diagram and port ranges; see deployment.ts): the whole of
 * `pnpm new:subgraph NAME`. Nothing else outside `subgraphs/<name>/` is written; `pnpm install`
 * afterwards links the new package (and records it in pnpm-lock.yaml).
 */
import { existsSync, readFileSync } from "node:fs";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadTopology, SUBGRAPH_NAME, withSubgraph, type SubgraphDeclaration } from "@boxoffice/topology";
import pluralize from "pluralize";
import { format, getFileInfo, resolveConfig } from "prettier";
import { MODEL_PORT, registerDeployment } from "./deployment.ts";

const TEMPLATE = fileURLToPath(new URL("../template", import.meta.url));

/** The repository this package sits in (`packages/new-subgraph/src` → three levels up). */
export const REPOSITORY_ROOT = fileURLToPath(new URL("../../..", import.meta.url));

export interface NewSubgraphOptions {
  /** The subgraph name (see SUBGRAPH_NAME in @boxoffice/topology), e.g. `reviews`. */
  name: string;
  /** The example entity's type name, PascalCase; default: the name in the singular, capitalised (`defaultEntity`). */
  entity?: string;
  /** Repository root to write into; default this repository. */
  root?: string;
  /** The first migration's timestamp folder prefix (`YYYYMMDDHHMMSS`); default now, UTC. */
  now?: Date;
}

export interface NewSubgraphResult {
  declaration: SubgraphDeclaration;
  /** Every file written, relative to the root (the folder's files, topology.json, the deployment files). */
  written: string[];
}

/**
 * Words the generated TypeScript cannot use as the entity's lower-case name (`export const review`):
 * ECMAScript's reserved words, those reserved in strict mode (modules are strict) and `await` in
 * modules (ECMA-262, §13.1.1 "Static Semantics: Early Errors" and §12.7.2 "Keywords and Reserved Words").
 */
const RESERVED_WORDS = new Set(
  `await break case catch class const continue debugger default delete do else enum export extends
   false finally for function if import in instanceof new null return super switch this throw true
   try typeof var void while with yield implements interface let package private protected public
   static arguments eval`.split(/\s+/),
);

/** GraphQL's root operation types and built-in scalars (GraphQL spec, "Types"): no entity may take them. */
const RESERVED_TYPE_NAMES = new Set([
  "Query",
  "Mutation",
  "Subscription",
  "Int",
  "Float",
  "String",
  "Boolean",
  "ID",
]);

/**
 * Why `name` cannot be a new subgraph of the repository at `root`, or undefined when it can: a name
 * the generator would write over or collide with outside its own folder — a workspace package or
 * test project (`events` would become a second `@boxoffice/events`), a docker-compose service
 * (`postgres`), a Kubernetes base file (`config` would replace the ConfigMap), or one containing the
 * model subgraph's port (the deployment blocks are copied from tickets with `4002` replaced). The
 * name's shape (SUBGRAPH_NAME) and an existing `subgraphs/<name>` are checked by `newSubgraph`.
 */
export function nameConflict(root: string, name: string): string | undefined {
  const taken = (dir: string) => existsSync(path.join(root, dir));
  for (const dir of ["packages", "examples"]) {
    if (taken(path.join(dir, name))) return `${dir}/${name} is a workspace package of that name`;
  }
  if (["gateway", "e2e"].includes(name)) return `${name} is a workspace package of that name`;
  for (const file of ["docker-compose.yml", "docker-compose.observability.yml"]) {
    const text = taken(file) ? readFileSync(path.join(root, file), "utf8") : "";
    if (new RegExp(`^  ${name}:\\s*$`, "m").test(text)) return `${file} already has a service named ${name}`;
  }
  if (taken(path.join("deploy", "kubernetes", "base", `${name}.yaml`))) {
    return `deploy/kubernetes/base/${name}.yaml exists already (it would be overwritten)`;
  }
  if (name.includes(String(MODEL_PORT))) return `it contains ${MODEL_PORT}, the model subgraph's port`;
  return undefined;
}

/**
 * The example entity's type name: the subgraph name in the singular (English rules and exceptions of
 * the `pluralize` library), capitalised; names of up to three letters stay as they are. `reviews` →
 * `Review`, `categories` → `Category`, `status` → `Status`, `inventory` → `Inventory`, `sms` → `Sms`.
 */
export function defaultEntity(name: string): string {
  // Up to three letters is taken for an acronym (`sms`, `pos`, `gps`), not a plural.
  const singular = name.length <= 3 ? name : pluralize.singular(name);
  return singular[0]!.toUpperCase() + singular.slice(1);
}

async function templateFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await templateFiles(full)));
    else if (entry.name.endsWith(".tmpl")) out.push(full);
  }
  return out.sort();
}

/** Formats `text` as prettier would for `file` (the repository's .prettierrc); files it does not format pass unchanged. */
async function formatted(file: string, text: string): Promise<string> {
  const info = await getFileInfo(file, { ignorePath: undefined });
  if (!info.inferredParser) return text;
  return format(text, { ...(await resolveConfig(file)), filepath: file });
}

/**
 * Generates `subgraphs/<name>/` (package.json, Prisma schema and first migration in its own
 * PostgreSQL schema, env.ts, app.ts, main.ts, schema.graphql with one entity, resolvers, vitest config
 * and a passing test), adds the subgraph to topology.json on the next free port, and writes it into
 * the deployment files (deployment.ts).
 *
 * @throws Error when the name is invalid, taken in the topology, its folder exists or it collides with
 *   something the generator writes beside (`nameConflict`), or the entity name is not PascalCase or
 *   is a GraphQL root type or built-in scalar; TopologyError when topology.json itself is invalid; DeploymentFileError
 *   when a deployment file lacks the line an edit is anchored on (the subgraph folder is written by
 *   then, topology.json is not).
 */
export async function newSubgraph(options: NewSubgraphOptions): Promise<NewSubgraphResult> {
  const root = path.resolve(options.root ?? REPOSITORY_ROOT);
  const { name } = options;
  if (!SUBGRAPH_NAME.test(name)) {
    throw new Error(
      `"${name}" is not a subgraph name: lower-case letters and digits, starting with a letter, 2 to 30 characters`,
    );
  }
  const entity = options.entity ?? defaultEntity(name);
  if (!/^[A-Z][A-Za-z0-9]*$/.test(entity)) throw new Error(`"${entity}" is not a PascalCase type name`);
  if (RESERVED_TYPE_NAMES.has(entity)) {
    throw new Error(`"${entity}" is a GraphQL root type or built-in scalar: pass another name with --entity`);
  }
  const entityLower = entity[0]!.toLowerCase() + entity.slice(1);
  if (RESERVED_WORDS.has(entityLower)) {
    throw new Error(
      `"${entityLower}" (the entity's field and variable name) is a JavaScript reserved word: pass another name with --entity`,
    );
  }
  if (entityLower === "index") {
    throw new Error(
      `"${entityLower}" would overwrite the resolvers' index.ts: pass another name with --entity`,
    );
  }
  const dir = path.join(root, "subgraphs", name);
  if (existsSync(dir)) {
    throw new Error(
      `subgraphs/${name} exists already (if an interrupted run left it behind, delete that folder and run again)`,
    );
  }
  const conflict = nameConflict(root, name);
  if (conflict) throw new Error(`"${name}" cannot be a subgraph name: ${conflict}`);
  const topologyFile = path.join(root, "packages", "topology", "topology.json");
  const previous = loadTopology(topologyFile);
  const { topology, added } = withSubgraph(previous, { name });

  const stamp = (options.now ?? new Date()).toISOString().replace(/\D/g, "").slice(0, 14);
  const tokens: Record<string, string> = {
    __migration__: stamp,
    __name__: name,
    __NAME__: name.toUpperCase(),
    __Name__: name[0]!.toUpperCase() + name.slice(1),
    __Entity__: entity,
    __entity__: entityLower,
    // The list field: the subgraph's name, unless that is the entity's own field name.
    __list__: name === entityLower ? `${name}List` : name,
    __table__: name,
    __port__: String(added.port),
  };
  const fill = (text: string) =>
    text.replace(/__(migration|name|NAME|Name|Entity|entity|list|table|port)__/g, (t) => tokens[t]!);

  const written: string[] = [];
  for (const source of await templateFiles(TEMPLATE)) {
    const target = path.join(dir, fill(path.relative(TEMPLATE, source)).replace(/\.tmpl$/, ""));
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, await formatted(target, fill(await readFile(source, "utf8"))));
    written.push(path.relative(root, target));
  }
  // The deployment files first: an anchor missing there throws before the topology names a subgraph
  // that compose and Kubernetes do not have.
  const deployment = await registerDeployment(root, {
    name,
    port: added.port,
    gatewayPort: previous.gateway.port,
    previousPorts: previous.subgraphs.map((s) => s.port),
  });
  await writeFile(topologyFile, await formatted(topologyFile, JSON.stringify(topology, null, 2)));
  written.push(path.relative(root, topologyFile), ...deployment);
  return { declaration: added, written };
}
