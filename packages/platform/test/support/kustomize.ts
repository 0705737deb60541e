/**
 * Renders a kustomization the way `kubectl kustomize` does, for the subset of kustomize that
 * deploy/kubernetes uses — there is no kustomize binary on npm or in the registries these machines
 * reach. Any other kustomization field is refused, so a manifest change that needs more of kustomize
 * fails here instead of rendering wrongly.
 *
 * Supported, following the kustomize reference (kubectl.docs.kubernetes.io/references/kustomize):
 * - `resources`: YAML files (several documents each) and directories holding a kustomization.yaml;
 *   the same kind and name twice is an error, as in kustomize.
 * - `patches` with `path` and an optional `target` (`kind`, `name`, `labelSelector` of `k=v` pairs):
 *   a file holding a list is a JSON 6902 patch (`add`, `replace`, `remove`; RFC 6902) applied to every
 *   target; otherwise each document is a strategic-merge patch applied to the resource of its kind
 *   and name. Strategic merge here: maps merge key by key, `null` deletes a key, lists whose items all
 *   carry `name` (containers, env, volumes, ports with names) merge by `name`, other lists are
 *   replaced — the merge keys Kubernetes declares for the lists these manifests patch.
 * - `images` (`name`, `newName`, `newTag`) on containers and init containers of pod templates.
 * - `replicas` (`name`, `count`) on Deployments and StatefulSets.
 * - `namespace`, set on every resource except Namespaces.
 * Order within one kustomization: resources, patches, images, replicas, namespace.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { parseAllDocuments } from "yaml";

export type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
} & Record<string, unknown>;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

interface Kustomization {
  apiVersion?: string;
  kind?: string;
  resources?: string[];
  namespace?: string;
  patches?: { path: string; target?: { kind?: string; name?: string; labelSelector?: string } }[];
  images?: { name: string; newName?: string; newTag?: string }[];
  replicas?: { name: string; count: number }[];
}

const SUPPORTED = new Set(["apiVersion", "kind", "resources", "namespace", "patches", "images", "replicas"]);

function readDocuments(file: string): unknown[] {
  return parseAllDocuments(readFileSync(file, "utf8"))
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]!.message}`);
      return doc.toJS() as unknown;
    })
    .filter((doc) => doc !== null && doc !== undefined);
}

/** Renders the kustomization in `dir`; returns its resources in order. */
export function kustomize(dir: string): Manifest[] {
  const file = path.join(dir, "kustomization.yaml");
  if (!existsSync(file)) throw new Error(`${dir} has no kustomization.yaml`);
  const k = readDocuments(file)[0] as Kustomization;
  const unknown = Object.keys(k).filter((key) => !SUPPORTED.has(key));
  if (unknown.length > 0)
    throw new Error(`${file}: fields this renderer does not support: ${unknown.join(", ")}`);

  const out: Manifest[] = [];
  const add = (m: Manifest, from: string) => {
    if (out.some((o) => o.kind === m.kind && o.metadata.name === m.metadata.name)) {
      throw new Error(`${from}: ${m.kind}/${m.metadata.name} is declared twice`);
    }
    out.push(m);
  };
  for (const resource of k.resources ?? []) {
    const target = path.join(dir, resource);
    if (statSync(target).isDirectory()) for (const m of kustomize(target)) add(m, target);
    else for (const m of readDocuments(target)) add(m as Manifest, target);
  }

  for (const patch of k.patches ?? []) {
    const docs = readDocuments(path.join(dir, patch.path));
    if (Array.isArray(docs[0])) {
      const targets = out.filter((m) => matches(m, patch.target ?? {}));
      if (targets.length === 0) throw new Error(`${patch.path}: no resource matches its target`);
      for (const m of targets) applyJsonPatch(m, docs[0] as JsonPatchOp[], patch.path);
    } else {
      for (const doc of docs as Manifest[]) {
        const target = out.find((m) => m.kind === doc.kind && m.metadata.name === doc.metadata.name);
        if (!target) throw new Error(`${patch.path}: no ${doc.kind}/${doc.metadata.name} to patch`);
        out[out.indexOf(target)] = strategicMerge(
          target as unknown as Json,
          doc as unknown as Json,
        ) as unknown as Manifest;
      }
    }
  }

  for (const image of k.images ?? []) {
    let used = false;
    for (const m of out) {
      for (const container of podContainers(m)) {
        const current = String(container.image);
        const bare = current.replace(/[:@].*$/, "");
        if (bare !== image.name) continue;
        const tag =
          image.newTag ?? (current.includes(":") ? current.slice(current.indexOf(":") + 1) : undefined);
        container.image = `${image.newName ?? image.name}${tag ? `:${tag}` : ""}`;
        used = true;
      }
    }
    if (!used) throw new Error(`images: no container uses ${image.name}`);
  }

  for (const { name, count } of k.replicas ?? []) {
    const target = out.find(
      (m) => (m.kind === "Deployment" || m.kind === "StatefulSet") && m.metadata.name === name,
    );
    if (!target) throw new Error(`replicas: no Deployment or StatefulSet ${name}`);
    (target.spec as Record<string, unknown>).replicas = count;
  }

  if (k.namespace) for (const m of out) if (m.kind !== "Namespace") m.metadata.namespace = k.namespace;
  return out;
}

function matches(m: Manifest, target: { kind?: string; name?: string; labelSelector?: string }): boolean {
  if (target.kind && m.kind !== target.kind) return false;
  if (target.name && m.metadata.name !== target.name) return false;
  for (const pair of target.labelSelector?.split(",") ?? []) {
    const [key, value] = pair.split("=").map((s) => s.trim());
    if (m.metadata.labels?.[key!] !== value) return false;
  }
  return true;
}

/** The containers and init containers of a resource's pod template (Deployment, StatefulSet, Job). */
export function podContainers(m: Manifest): Record<string, unknown>[] {
  const spec = (
    m.spec as { template?: { spec?: { containers?: unknown[]; initContainers?: unknown[] } } } | undefined
  )?.template?.spec;
  return [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])] as Record<string, unknown>[];
}

interface JsonPatchOp {
  op: "add" | "replace" | "remove";
  path: string;
  value?: Json;
}

function applyJsonPatch(target: Manifest, ops: JsonPatchOp[], file: string): void {
  for (const op of ops) {
    // RFC 6901: "~1" is "/", "~0" is "~".
    const keys = op.path
      .split("/")
      .slice(1)
      .map((k) => k.replaceAll("~1", "/").replaceAll("~0", "~"));
    const last = keys.pop()!;
    let parent: unknown = target;
    for (const key of keys) {
      parent = Array.isArray(parent)
        ? parent[Number(key)]
        : (parent as Record<string, unknown> | undefined)?.[key];
      if (parent === undefined || parent === null) {
        throw new Error(`${file}: ${op.path} does not exist in ${target.kind}/${target.metadata.name}`);
      }
    }
    const container = parent as Record<string, unknown> | unknown[];
    if (Array.isArray(container)) {
      const index = last === "-" ? container.length : Number(last);
      if (op.op === "add") container.splice(index, 0, op.value);
      else if (index >= container.length) throw new Error(`${file}: ${op.path} is out of range`);
      else if (op.op === "replace") container[index] = op.value;
      else container.splice(index, 1);
    } else {
      if (op.op !== "add" && !(last in container)) {
        throw new Error(
          `${file}: ${op.op} ${op.path}: no such member in ${target.kind}/${target.metadata.name}`,
        );
      }
      if (op.op === "remove") delete container[last];
      else container[last] = op.value;
    }
  }
}

function isMap(value: Json | undefined): value is { [key: string]: Json } {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function named(list: Json[]): list is { [key: string]: Json }[] {
  return list.every((item) => isMap(item) && typeof item.name === "string");
}

function strategicMerge(base: Json, patch: Json): Json {
  if (isMap(base) && isMap(patch)) {
    const out: { [key: string]: Json } = { ...base };
    for (const [key, value] of Object.entries(patch)) {
      if (value === null) delete out[key];
      else out[key] = key in base ? strategicMerge(base[key]!, value) : value;
    }
    return out;
  }
  if (Array.isArray(base) && Array.isArray(patch) && named(base) && named(patch)) {
    const out: Json[] = [...base];
    for (const item of patch) {
      const at = out.findIndex((o) => isMap(o) && o.name === item.name);
      if (at >= 0) out[at] = strategicMerge(out[at]!, item);
      else out.push(item);
    }
    return out;
  }
  return patch;
}
