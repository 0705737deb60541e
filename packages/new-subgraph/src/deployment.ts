/**
 * The deployment files of a new subgraph, written by `pnpm new:subgraph` next to its folder: the
 * compose service, its observability overlay and Prometheus scrape target, the Kubernetes manifests
 * and their lists, and the README's architecture diagram and port ranges. These files cannot import
 * the topology, so packages/platform/test/docker-compose.test.ts, packages/platform/test/kubernetes.test.ts,
 * packages/telemetry/test/observability-stack.test.ts and packages/topology/test/readme.test.ts check
 * them against it; this module writes what those tests ask for.
 *
 * The service's own blocks are copied from the tickets subgraph's (the template is modelled on it: a
 * verifying subgraph with its own schema, outbox and consumers), with its name, upper-case name and
 * port replaced; each list gets one line after its last subgraph line. Every edit is anchored on a
 * line that must exist, so a file reshaped by hand fails here with the file and the anchor named,
 * never half-edited.
 */
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";

/** The subgraph whose deployment blocks a new one copies. */
const MODEL = { name: "tickets", port: 4002 };
/** The model subgraph's port, replaced in the copied blocks (a name may not contain it). */
export const MODEL_PORT = MODEL.port;

export interface DeploymentTarget {
  /** The new subgraph's name, e.g. `reviews`. */
  name: string;
  /** Its port (the topology's). */
  port: number;
  /** The gateway's port (the topology's). */
  gatewayPort: number;
  /** Every subgraph port before this one was added (for the README's port ranges). */
  previousPorts: number[];
}

/** Thrown when a deployment file lacks the line an edit is anchored on. */
export class DeploymentFileError extends Error {
  constructor(file: string, anchor: string) {
    super(`${file}: no ${anchor}; add the new subgraph there by hand (see README "Adding a subgraph")`);
    this.name = "DeploymentFileError";
  }
}

function lastMatch(text: string, pattern: RegExp): RegExpExecArray | undefined {
  let last: RegExpExecArray | undefined;
  for (const m of text.matchAll(new RegExp(pattern.source, `${pattern.flags.replace("g", "")}g`))) {
    last = m;
  }
  return last;
}

/** Inserts `line` after the last line matching `pattern` (a whole-line, multiline regex). */
function afterLast(file: string, text: string, pattern: RegExp, line: string, anchor: string): string {
  const m = lastMatch(text, pattern);
  if (!m) throw new DeploymentFileError(file, anchor);
  const end = m.index + m[0].length;
  return `${text.slice(0, end)}\n${line}${text.slice(end)}`;
}

/**
 * Writes the new subgraph into the deployment files under `root`.
 *
 * @returns the files changed, relative to `root`.
 * @throws DeploymentFileError when a file lacks the line an edit is anchored on (nothing is written
 *   then: every edit is computed before the first write).
 */
export async function registerDeployment(root: string, target: DeploymentTarget): Promise<string[]> {
  const { name, port } = target;
  const NAME = name.toUpperCase();
  const fromModel = (text: string) =>
    text
      .replaceAll(MODEL.name, name)
      .replaceAll(MODEL.name.toUpperCase(), NAME)
      .replaceAll(String(MODEL.port), String(port));

  const files = new Map<string, string>();
  const load = async (file: string) => {
    if (!files.has(file)) files.set(file, await readFile(path.join(root, file), "utf8"));
    return files.get(file)!;
  };
  const edit = async (file: string, change: (text: string) => string) => {
    files.set(file, change(await load(file)));
  };

  /** A compose file with the model's service block copied for the new subgraph, before the gateway's. */
  const withServiceBlock = (file: string, text: string) => {
    const block = new RegExp(`^  ${MODEL.name}:\\n(?:(?:    .*)?\\n)*?(?=^  \\S)`, "m").exec(text);
    if (!block) throw new DeploymentFileError(file, `"  ${MODEL.name}:" service block`);
    const gateway = /^ {2}gateway:$/m.exec(text);
    if (!gateway) throw new DeploymentFileError(file, `"  gateway:" service`);
    return `${text.slice(0, gateway.index)}${fromModel(block[0])}${text.slice(gateway.index)}`;
  };

  // docker-compose.yml: the service (tickets' block), the gateway's URL variable and dependency.
  await edit("docker-compose.yml", (text) => {
    const file = "docker-compose.yml";
    text = withServiceBlock(file, text);
    text = afterLast(
      file,
      text,
      /^ {6}SUBGRAPH_URL_\w+: .*$/m,
      `      SUBGRAPH_URL_${NAME}: http://${name}:${port}/graphql`,
      "SUBGRAPH_URL_<NAME> line in the gateway's environment",
    );
    return afterLast(
      file,
      text,
      /^ {6}[a-z0-9]+: \{ condition: service_healthy \}$/m,
      `      ${name}: { condition: service_healthy }`,
      "'<subgraph>: { condition: service_healthy }' line in the gateway's depends_on",
    );
  });

  // docker-compose.observability.yml: the service pointed at the collector (tickets' block);
  // deploy/observability/prometheus.yml: a scrape target.
  await edit("docker-compose.observability.yml", (text) =>
    withServiceBlock("docker-compose.observability.yml", text),
  );
  await edit("deploy/observability/prometheus.yml", (text) =>
    afterLast(
      "deploy/observability/prometheus.yml",
      text,
      /^ {10}- [a-z0-9]+:\d+$/m,
      `          - ${name}:${port}`,
      "'- <service>:<port>' scrape target line",
    ),
  );

  // Kubernetes: the manifests (tickets' file), the base's resource list, the gateway's URL, the
  // database URL Secrets and the overlays' image and replica lists.
  const k8s = "deploy/kubernetes";
  const model = await readFile(path.join(root, k8s, "base", `${MODEL.name}.yaml`), "utf8");
  files.set(`${k8s}/base/${name}.yaml`, fromModel(model));
  const lines: Array<[string, RegExp, string, string]> = [
    [`${k8s}/base/kustomization.yaml`, /^ {2}- [a-z0-9-]+\.yaml$/m, `  - ${name}.yaml`, "resource line"],
    [
      `${k8s}/base/gateway.yaml`,
      /^ {12}- \{ name: SUBGRAPH_URL_\w+, value: .*\}$/m,
      `            - { name: SUBGRAPH_URL_${NAME}, value: "http://${name}:${port}/graphql" }`,
      "SUBGRAPH_URL_<NAME> env line",
    ],
    [
      `${k8s}/base/secrets.yaml`,
      /^ {2}[a-z0-9]+: postgresql:\/\/.*$/m,
      `  ${name}: postgresql://${name}:CHANGE-ME@postgres:5432/boxoffice`,
      "database URL line",
    ],
    [
      `${k8s}/overlays/local/secrets.yaml`,
      /^ {2}[a-z0-9]+: postgresql:\/\/.*$/m,
      `  ${name}: postgresql://postgres:postgres@postgres:5432/boxoffice`,
      "database URL line",
    ],
    [
      `${k8s}/overlays/local/kustomization.yaml`,
      /^ {2}- \{ name: boxoffice\/[a-z0-9]+, newTag: dev \}$/m,
      `  - { name: boxoffice/${name}, newTag: dev }`,
      "image line",
    ],
    [
      `${k8s}/overlays/local/kustomization.yaml`,
      /^ {2}- \{ name: [a-z0-9]+, count: 1 \}$/m,
      `  - { name: ${name}, count: 1 }`,
      "replicas line",
    ],
    [
      `${k8s}/overlays/production/kustomization.yaml`,
      /^ {2}- \{ name: boxoffice\/[a-z0-9]+, newName: .*\}$/m,
      `  - { name: boxoffice/${name}, newName: registry.example.com/boxoffice/${name}, newTag: "1.0.0" }`,
      "image line",
    ],
  ];
  for (const [file, pattern, line, anchor] of lines) {
    await edit(file, (text) => afterLast(file, text, pattern, line, anchor));
  }

  // README.md: a node in the architecture diagram, and the port ranges end at the new port.
  await edit("README.md", (text) => {
    text = afterLast(
      "README.md",
      text,
      /^ {2}gw -->.*\[[a-z0-9]+ :\d+.*\]$/m,
      `  gw --> sg_${name}[${name} :${port}]`,
      "'gw --> x[name :port]' line in the architecture diagram",
    );
    const last = Math.max(...target.previousPorts);
    const starts = [target.gatewayPort, Math.min(...target.previousPorts)];
    return text.replace(/\b(\d{4,5})–(\d{4,5})\b/g, (range, from: string, to: string) =>
      starts.includes(Number(from)) && Number(to) === last ? `${from}–${port}` : range,
    );
  });

  for (const [file, text] of files) await writeFile(path.join(root, file), text);
  return [...files.keys()].sort();
}
