/**
 * The proof that `pnpm new:subgraph` is the whole checklist: in a copy of this checkout (the files git
 * tracks or would track), generate a subgraph, and check that nothing but its folder, topology.json
 * and the deployment files changed; then `pnpm install`, its `generate`, a type-check of what it
 * wrote, the gateway's compose step (the supergraph now has it), its own generated test, the compose,
 * Kubernetes and README checks, and a real start: the subgraph's `src/main.ts` answers /readyz, and
 * the gateway's `src/main.ts` over the composed supergraph serves a query of its entity.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { copyFile, mkdir, mkdtemp, readFile, realpath, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort } from "@boxoffice/infra";
import { createMigratedDatabase, graphqlRequest, type TestDatabase } from "@boxoffice/service-kit/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newSubgraph, REPOSITORY_ROOT } from "../src/generate.ts";

const NAME = "probes";
let copy: string;
let db: TestDatabase | undefined;
const children: ChildProcess[] = [];

/**
 * The environment of every process run in the copy: its own Node compile cache, deleted with it (the
 * root vitest config's cache would keep entries for this run's throwaway paths for ever).
 */
function copyEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    NODE_COMPILE_CACHE: path.join(copy, "node_modules", ".cache", "node-compile-cache"),
  };
}

/** Runs `command` in `cwd` to completion. @throws Error with its output when it exits non-zero. */
function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = copyEnv()): string {
  const result = spawnSync(command, args, { cwd, env, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  const output = `${result.stdout}${result.stderr}`;
  if (result.status !== 0)
    throw new Error(`${command} ${args.join(" ")} failed (${result.status}):\n${output}`);
  return output;
}

/** pnpm as the test was started (`pnpm test` sets npm_execpath), else the pinned one through npx. */
function pnpm(args: string[], cwd: string): string {
  const own = process.env.npm_execpath;
  if (own && /pnpm/.test(own)) {
    return /\.[cm]?js$/.test(own) ? run(process.execPath, [own, ...args], cwd) : run(own, args, cwd);
  }
  return run("npx", ["-y", "pnpm@12.4.2", ...args], cwd);
}

/** Starts `src/main.ts` of the deployable in `dir` through its tsx. */
function start(dir: string, env: Record<string, string>): { child: ChildProcess; output: string[] } {
  const output: string[] = [];
  const child = spawn(path.join(dir, "node_modules", ".bin", "tsx"), ["src/main.ts"], {
    cwd: dir,
    env: { ...copyEnv(), NODE_ENV: "test", LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  children.push(child);
  return { child, output };
}

/** Polls `url` until it answers 200. @throws Error with the process output when it exits or 120 s pass. */
async function waitOk(url: string, proc: { child: ChildProcess; output: string[] }): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null)
      throw new Error(`exited ${proc.child.exitCode}:\n${proc.output.join("")}`);
    const status = await fetch(url).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) return;
    await sleep(250);
  }
  throw new Error(`${url} not ready within 120 s:\n${proc.output.join("")}`);
}

/** Every file of the checkout git tracks or would track (not ignored), relative to `root`. */
function checkoutFiles(root: string): string[] {
  return run("git", ["ls-files", "-co", "--exclude-standard", "-z"], root, process.env)
    .split("\0")
    .filter(Boolean);
}

beforeAll(async () => {
  // Real path: vitest reports files by it (tmpdir may be a symlink, as on macOS).
  copy = await realpath(await mkdtemp(path.join(tmpdir(), "boxoffice-new-subgraph-")));
  for (const file of checkoutFiles(REPOSITORY_ROOT)) {
    await mkdir(path.dirname(path.join(copy, file)), { recursive: true });
    await copyFile(path.join(REPOSITORY_ROOT, file), path.join(copy, file)).catch(
      (error: NodeJS.ErrnoException) => {
        if (error.code !== "ENOENT") throw error; // deleted in the work tree, not yet in the index
      },
    );
  }
});

afterAll(async () => {
  for (const child of children) child.kill("SIGTERM");
  await Promise.all(
    children
      .filter((c) => c.exitCode === null && c.signalCode === null)
      .map((c) => new Promise<void>((resolve) => c.once("exit", () => resolve()))),
  );
  await db?.drop();
  if (copy) await rm(copy, { recursive: true, force: true });
});

describe("pnpm new:subgraph", () => {
  it("writes only its folder and its topology entry, and the result composes, passes its test and serves its entity", async () => {
    const before = new Map<string, string>();
    for (const file of checkoutFiles(REPOSITORY_ROOT)) {
      before.set(file, await readFile(path.join(copy, file), "utf8").catch(() => ""));
    }
    const { declaration, written } = await newSubgraph({ name: NAME, root: copy });

    // Outside subgraphs/<name>/ only topology.json and the deployment files that cannot read it (their
    // tests below check them against it); every other file of the copy is unchanged.
    const deploymentFiles = [
      "README.md",
      "deploy/kubernetes/base/gateway.yaml",
      "deploy/kubernetes/base/kustomization.yaml",
      "deploy/kubernetes/base/secrets.yaml",
      "deploy/kubernetes/overlays/local/kustomization.yaml",
      "deploy/kubernetes/overlays/local/secrets.yaml",
      "deploy/kubernetes/overlays/production/kustomization.yaml",
      "deploy/observability/prometheus.yml",
      "docker-compose.observability.yml",
      "docker-compose.yml",
    ];
    const outside = written.filter((f) => !f.startsWith(`subgraphs/${NAME}/`)).sort();
    expect(outside).toEqual(
      [...deploymentFiles, `deploy/kubernetes/base/${NAME}.yaml`, "packages/topology/topology.json"].sort(),
    );
    const changed: string[] = [];
    for (const [file, text] of before) {
      if ((await readFile(path.join(copy, file), "utf8").catch(() => "")) !== text) changed.push(file);
    }
    expect(changed.sort()).toEqual([...deploymentFiles, "packages/topology/topology.json"].sort());
    const topology = JSON.parse(
      await readFile(path.join(copy, "packages/topology/topology.json"), "utf8"),
    ) as {
      subgraphs: { name: string; port: number }[];
    };
    expect(topology.subgraphs.at(-1)).toEqual({
      name: NAME,
      port: declaration.port,
      publishes: [],
      consumes: [],
    });
    for (const file of [
      "package.json",
      "prisma/schema.prisma",
      "src/env.ts",
      "src/app.ts",
      "src/main.ts",
      "src/schema.graphql",
      "vitest.config.ts",
    ]) {
      expect(written, file).toContain(`subgraphs/${NAME}/${file}`);
    }
    expect(
      written.some((f) => /^subgraphs\/probes\/prisma\/migrations\/\d{14}_init\/migration\.sql$/.test(f)),
    ).toBe(true);

    // Link it, generate its Prisma client and resolver types, compose the supergraph with it.
    pnpm(["install", "--offline", "--no-frozen-lockfile"], copy);
    pnpm(["--filter", `@boxoffice/${NAME}`, "generate"], copy);
    // What it generated type-checks (its build only emits: tsconfig.build.json's noCheck).
    run(path.join(copy, "node_modules", ".bin", "tsc"), ["-p", `subgraphs/${NAME}/tsconfig.json`], copy);
    pnpm(["--filter", "@boxoffice/gateway", "compose"], copy);
    const supergraph = await readFile(path.join(copy, "gateway", "supergraph.graphql"), "utf8");
    expect(supergraph).toContain(
      `PROBES @join__graph(name: "${NAME}", url: "http://127.0.0.1:${declaration.port}/graphql")`,
    );
    expect(supergraph).toMatch(/type Probe\b[^{]*@join__type\(graph: PROBES, key: "id"\)/);

    // Its own generated test passes (on this run's PostgreSQL and Kafka), and the deployment files'
    // checks against the topology pass with it: compose, both Kubernetes overlays, the README.
    // One vitest run for all of them (each run starts vitest and the projects' global setups again).
    const vitest = path.join(copy, "node_modules", ".bin", "vitest");
    const checks = [
      "packages/platform/test/docker-compose.test.ts",
      "packages/platform/test/kubernetes.test.ts",
      "packages/topology/test/readme.test.ts",
      "packages/telemetry/test/observability-stack.test.ts",
    ];
    const report = path.join(copy, "checks.json");
    const projects = [NAME, "platform", "topology", "telemetry"].flatMap((p) => ["--project", p]);
    const reporters = ["--reporter=default", "--reporter=json", `--outputFile.json=${report}`];
    run(vitest, ["run", ...projects, ...reporters, `subgraphs/${NAME}/`, ...checks], copy);
    const { testResults } = JSON.parse(await readFile(report, "utf8")) as {
      testResults: { name: string; status: string }[];
    };
    const ran = testResults.map((r) => `${path.relative(copy, r.name)} ${r.status}`);
    expect(
      ran.some((r) => r.startsWith(`subgraphs/${NAME}/`)),
      "its own test ran",
    ).toBe(true);
    for (const check of checks) expect(ran).toContain(`${check} passed`);

    // Started as a deployable: migrations, src/main.ts, /readyz; then the gateway over the supergraph.
    db = await createMigratedDatabase("new_subgraph_test", path.join(copy, "subgraphs", NAME));
    const port = await freePort();
    const service = start(path.join(copy, "subgraphs", NAME), {
      DATABASE_URL: db.url,
      KAFKA_BROKERS: process.env.KAFKA_BROKERS!,
      KAFKA_NAMESPACE: `gen${randomBytes(4).toString("hex")}`,
      PROBES_PORT: String(port),
    });
    await waitOk(`http://127.0.0.1:${port}/readyz`, service);

    const id = randomUUID();
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    await client
      .query(`INSERT INTO "${NAME}"."${NAME}" (id, name) VALUES ($1, 'Generated')`, [id])
      .finally(() => client.end());

    const gatewayPort = await freePort();
    const gateway = start(path.join(copy, "gateway"), {
      GATEWAY_PORT: String(gatewayPort),
      GATEWAY_SUPERGRAPH_PATH: path.join(copy, "gateway", "supergraph.graphql"),
      SUBGRAPH_URL_PROBES: `http://127.0.0.1:${port}/graphql`,
    });
    await waitOk(`http://127.0.0.1:${gatewayPort}/healthz`, gateway);
    const { body } = await graphqlRequest(
      `http://127.0.0.1:${gatewayPort}/graphql`,
      "query ($id: ID!) { probe(id: $id) { id name version } probes(first: 5) { id } }",
      { id },
    );
    expect(body.errors).toBeUndefined();
    expect(body.data).toEqual({ probe: { id, name: "Generated", version: 1 }, probes: [{ id }] });
  });
});
