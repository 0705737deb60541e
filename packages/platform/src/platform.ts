/**
 * Starts the whole platform as real processes for cross-service tests: a fresh database (a copy of a
 * template in which each subgraph migrated its own schema), every subgraph (`tsx src/main.ts`, or the
 * compiled `dist/main.js`) and, beside them, the gateway over a supergraph composed from the
 * subgraphs' SDL with their actual URLs; it resolves once all of them are ready.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { exportSigningKey, generateSigningKey } from "@boxoffice/auth-verify";
import { createKafka } from "@boxoffice/events";
import { composeSupergraph, SUBGRAPHS } from "@boxoffice/gateway";
import { runPrisma } from "@boxoffice/prisma-engine";
import { freePort as infraFreePort } from "@boxoffice/infra";
import { portVariable } from "@boxoffice/topology";
import { migratedTemplate } from "@boxoffice/service-kit/testing";
import pg from "pg";
import { startBalancer, type Balancer } from "./balancer.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

export interface PlatformOptions {
  /** Superuser URL of the PostgreSQL server. */
  adminDatabaseUrl: string;
  kafkaBrokers: string;
  /**
   * Database for the subgraphs' schemas. Default: a fresh `e2e_<random>` database that `stop()`
   * drops; a named database is kept (a second start reuses its data).
   */
  databaseName?: string;
  /**
   * `KAFKA_NAMESPACE` of every process: prefix of its topics and consumer groups, so platforms
   * sharing one Kafka never read each other's events or split each other's consumer groups. Default:
   * the database name when the database is fresh (`stop()` then deletes those topics and groups);
   * none (the standard names) when `databaseName` is given.
   */
  kafkaNamespace?: string;
  /** `test` (default) or `development` (Sandbox, plain-http dev cookies). */
  nodeEnv?: "test" | "development";
  /** Fixed ports by process name (`gateway`, `accounts`, …); default: free ports from the OS. */
  ports?: Record<string, number>;
  /** Where to write the composed supergraph; default a temporary file. */
  supergraphPath?: string;
  /** Extra environment for every process (e.g. shorter timeouts). */
  env?: Record<string, string>;
  /** Extra environment per process name (e.g. `{ accounts: { LOG_LEVEL: "debug" } }`). */
  processEnv?: Record<string, Record<string, string>>;
  /** Receives each output line of each process; default: kept in memory only. */
  onOutput?: (name: string, line: string) => void;
  /** Progress lines while starting. */
  onProgress?: (line: string) => void;
  /**
   * Run each deployable's compiled `dist/main.js` with the `compiled` export condition (what the
   * container image runs; needs `turbo run build` first) instead of `src/main.ts` through tsx.
   */
  compiled?: boolean;
  /** Aborting stops whatever has started and makes `startPlatform` reject. */
  signal?: AbortSignal;
  /**
   * Instances of every subgraph (default 1), sharing the database and the Kafka namespace, as
   * replicas of one Deployment do. Above 1 the processes are named `<subgraph>-1`, `<subgraph>-2`, …
   * and each subgraph's port (`ports`, `subgraphUrl(<subgraph>)`) is a round-robin balancer over its
   * live instances (balancer.ts, standing in for a Kubernetes Service); the accounts instances share
   * one generated `AUTH_SIGNING_KEY` unless one is given.
   */
  instances?: number;
  /** Gateways (default 1), each over the same subgraph URLs; above 1 named `gateway-1`, `gateway-2`, …. */
  gateways?: number;
}

export interface RunningProcess {
  name: string;
  child: ChildProcess;
  port: number;
  /** Everything the process printed (JSON log lines), for failure messages. */
  output: string[];
}

export interface Platform {
  /** The first gateway's URL. */
  gatewayUrl: string;
  /** Every gateway's URL, in order (`gateway-1`, `gateway-2`, … when there are several). */
  gatewayUrls: string[];
  databaseUrl: string;
  processes: RunningProcess[];
  /** The subgraph URL by name, for direct checks. */
  subgraphUrl: (name: string) => string;
  /** The environment process `name` was started with (to run its CLI against the same data). */
  serviceEnv: (name: string) => NodeJS.ProcessEnv;
  /** Stops process `name` (SIGTERM, SIGKILL after 15 s); the others keep running. */
  stopService: (name: string) => Promise<void>;
  /**
   * Starts a stopped process `name` again, same port and environment (plus `env`, which later restarts
   * keep, e.g. a rotated `AUTH_SIGNING_KEY`); resolves when it is ready.
   * @throws Error with its output when it exits or is not ready within 90 s.
   */
  startService: (name: string, env?: Record<string, string>) => Promise<void>;
  /**
   * Sends `signal` to process `name`: `SIGKILL` crashes it (no shutdown, as a power cut would),
   * `SIGSTOP` freezes it (sockets open, nothing answered) until `SIGCONT`. Resolves once a killed
   * process has exited.
   */
  signalService: (name: string, signal: "SIGKILL" | "SIGSTOP" | "SIGCONT") => Promise<void>;
  stop: () => Promise<void>;
}

/** True when something accepts TCP connections on 127.0.0.1:`port`. */
function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: "127.0.0.1" });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/**
 * A free TCP port on 127.0.0.1 for a platform process, below the ephemeral port ranges
 * (`freePort` of @boxoffice/infra says why).
 */
export const freePort = infraFreePort;

async function waitReady(proc: RunningProcess, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    signal?.throwIfAborted();
    if (proc.child.exitCode !== null) {
      throw new Error(`${proc.name} exited with ${proc.child.exitCode}:\n${proc.output.slice(-20).join("")}`);
    }
    try {
      const res = await fetch(
        `http://127.0.0.1:${proc.port}/${proc.name.startsWith("gateway") ? "healthz" : "readyz"}`,
      );
      if (res.ok) return;
      last = `${res.status} ${await res.text()}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await sleep(200);
  }
  throw new Error(
    `${proc.name} not ready after ${timeoutMs} ms (${last}):\n${proc.output.slice(-20).join("")}`,
  );
}

/** The node arguments that run a deployable: its TypeScript through tsx, or its build output. */
function entryArgs(compiled: boolean | undefined): string[] {
  return compiled ? ["--conditions=compiled", "dist/main.js"] : ["--import", "tsx", "src/main.ts"];
}

/** Runs `src/main.ts` (or, compiled, `dist/main.js`) of the deployable in `cwd`. */
function start(
  name: string,
  cwd: string,
  env: NodeJS.ProcessEnv,
  port: number,
  onOutput?: (name: string, line: string) => void,
  compiled?: boolean,
): RunningProcess {
  // The IPC channel tells the child when this process is gone (service-kit stops on "disconnect").
  const child = spawn(process.execPath, entryArgs(compiled), {
    cwd,
    env,
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  const proc: RunningProcess = { name, child, port, output: [] };
  const keep = (chunk: Buffer) => {
    const text = chunk.toString();
    proc.output.push(text);
    if (proc.output.length > 2000) proc.output.shift();
    if (onOutput) for (const line of text.split("\n")) if (line.trim()) onOutput(name, line);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  return proc;
}

async function stopProcess(proc: RunningProcess): Promise<void> {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => proc.child.once("exit", () => resolve()));
  proc.child.kill("SIGTERM");
  const timer = setTimeout(() => proc.child.kill("SIGKILL"), 15_000);
  await exited;
  clearTimeout(timer);
}

/** Deletes the topics and consumer groups of a platform's own `KAFKA_NAMESPACE` (best effort). */
async function deleteNamespace(brokers: string, namespace: string): Promise<void> {
  // Leftovers only cost disk space: a platform that stopped must not fail its caller over them.
  const admin = createKafka({ clientId: "boxoffice-platform", brokers: brokers.split(",") }).admin();
  const prefix = `${namespace}.`;
  try {
    await admin.connect();
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    if (topics.length) await admin.deleteTopics({ topics }).catch(() => undefined);
    // A group whose members have not timed out yet is not empty and stays until offsets retention.
    const groups = (await admin.listGroups()).groups
      .map((g) => g.groupId)
      .filter((g) => g.startsWith(prefix));
    if (groups.length) await admin.deleteGroups(groups).catch(() => undefined);
  } catch {
    // Kafka unreachable: nothing to clean that we could reach.
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * Starts database, subgraphs and gateway; resolves when every process answers its health check.
 *
 * @throws Error with the failing process's last output when a migration or a process fails.
 */
export async function startPlatform(options: PlatformOptions): Promise<Platform> {
  const dbName = options.databaseName ?? `e2e_${randomBytes(5).toString("hex")}`;
  const progress = options.onProgress ?? (() => undefined);
  const dbUrl = new URL(options.adminDatabaseUrl);
  dbUrl.pathname = `/${dbName}`;
  const databaseUrl = dbUrl.toString();
  const kafkaNamespace = options.kafkaNamespace ?? (options.databaseName ? undefined : dbName);
  const processes: RunningProcess[] = [];
  const specs = new Map<string, { cwd: string; env: NodeJS.ProcessEnv; port: number }>();
  const launch = (name: string, cwd: string, env: NodeJS.ProcessEnv, port: number): RunningProcess => {
    specs.set(name, { cwd, env, port });
    return start(name, cwd, env, port, options.onOutput, options.compiled);
  };
  const spec = (name: string) => {
    const found = specs.get(name);
    if (!found) throw new Error(`no process named ${name}`);
    return found;
  };
  const workDir = await mkdtemp(path.join(tmpdir(), "boxoffice-e2e-"));
  const instances = options.instances ?? 1;
  const gatewayCount = options.gateways ?? 1;
  const balancers: Balancer[] = [];
  const isGateway = (p: RunningProcess) => p.name.startsWith("gateway");
  /** Waits until `p` is ready and reports how long that took from now. */
  const ready = async (p: RunningProcess, timeoutMs: number) => {
    const t = performance.now();
    await waitReady(p, timeoutMs, options.signal);
    progress(`${p.name} ready (${Math.round(performance.now() - t)} ms)`);
  };

  const stop = async () => {
    // Gateways first (no new requests reach the subgraphs), then the subgraphs together.
    await Promise.all(processes.filter(isGateway).map(stopProcess));
    await Promise.all(processes.filter((p) => !isGateway(p)).map(stopProcess));
    await Promise.all(balancers.map((b) => b.close()));
    if (!options.databaseName) {
      const admin = new pg.Client({ connectionString: options.adminDatabaseUrl });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`).finally(() => admin.end());
    }
    if (kafkaNamespace && !options.kafkaNamespace)
      await deleteNamespace(options.kafkaBrokers, kafkaNamespace);
    await rm(workDir, { recursive: true, force: true });
  };

  try {
    // A fixed port already taken would make its health check answer for someone else's process.
    for (const [name, port] of Object.entries(options.ports ?? {})) {
      if (await portInUse(port)) {
        throw new Error(
          `port ${port} (for ${name}) is already in use on 127.0.0.1 — is another Boxoffice still running? Stop it, or free the port.`,
        );
      }
    }
    const ports = new Map<string, number>();
    for (const s of SUBGRAPHS) ports.set(s.name, options.ports?.[s.name] ?? (await freePort()));
    // Each subgraph's instances: its own name and port when alone, else `<name>-<i>` on free ports.
    const instancesOf = new Map<string, { name: string; port: number }[]>();
    for (const s of SUBGRAPHS) {
      const list: { name: string; port: number }[] = [];
      for (let i = 1; i <= instances; i += 1) {
        list.push(
          instances === 1
            ? { name: s.name, port: ports.get(s.name)! }
            : { name: `${s.name}-${i}`, port: await freePort() },
        );
      }
      instancesOf.set(s.name, list);
    }
    const accountsPort = ports.get("accounts");
    const baseEnv: NodeJS.ProcessEnv = {
      ...process.env,
      NODE_ENV: options.nodeEnv ?? "test",
      LOG_LEVEL: "warn",
      DATABASE_URL: databaseUrl,
      KAFKA_BROKERS: options.kafkaBrokers,
      ...(kafkaNamespace ? { KAFKA_NAMESPACE: kafkaNamespace } : {}),
      ...(accountsPort ? { AUTH_JWKS_URL: `http://127.0.0.1:${accountsPort}/.well-known/jwks.json` } : {}),
      // Sealed subgraphs: a fresh secret per platform, so the subgraph ports answer only its gateway.
      GATEWAY_SHARED_SECRET: randomBytes(32).toString("base64url"),
      ...options.env,
    };
    if (!options.databaseName) {
      // A fresh database is a copy of a template holding every subgraph's migrations, built once
      // per set of migration files: seconds of `migrate deploy` per subgraph saved on every start.
      progress(`copying the migrated template into database "${dbName}"`);
      const template = await migratedTemplate(
        SUBGRAPHS.map((s) => path.join(ROOT, "subgraphs", s.name)),
        { key: "platform", adminDatabaseUrl: options.adminDatabaseUrl },
      );
      const admin = new pg.Client({ connectionString: options.adminDatabaseUrl });
      await admin.connect();
      await admin.query(`CREATE DATABASE "${dbName}" TEMPLATE "${template}"`).finally(() => admin.end());
    }
    for (const s of options.databaseName ? SUBGRAPHS : []) {
      options.signal?.throwIfAborted();
      progress(`migrating ${s.name} (schema "${s.name}" in database "${dbName}")`);
      const dir = path.join(ROOT, "subgraphs", s.name);
      const code = await runPrisma(["migrate", "deploy"], {
        cwd: dir,
        stdio: "pipe",
        env: { ...baseEnv, CHECKPOINT_DISABLE: "1" },
      });
      if (code !== 0) throw new Error(`migrations of ${s.name} failed (exit ${code})`);
    }
    // Instances of accounts must sign with one key, or a token from one fails at the other's JWKS.
    const sharedKey =
      instances > 1 && !baseEnv.AUTH_SIGNING_KEY && !options.processEnv?.accounts?.AUTH_SIGNING_KEY
        ? {
            AUTH_SIGNING_KEY: JSON.stringify(
              await exportSigningKey(await generateSigningKey({ extractable: true })),
            ),
          }
        : {};
    if (instances > 1) {
      for (const s of SUBGRAPHS) {
        const backends = instancesOf.get(s.name)!.map((instance) => ({
          port: instance.port,
          alive: () => {
            const proc = processes.find((p) => p.name === instance.name);
            return proc !== undefined && proc.child.exitCode === null && proc.child.signalCode === null;
          },
        }));
        balancers.push(await startBalancer(backends, ports.get(s.name)));
      }
    }
    // The gateway starts beside the subgraphs, not after them: its supergraph is composed from the
    // subgraphs' schema files and their URLs (known now), and it asks nothing of them until a request
    // comes (no health check at start). Its start then overlaps the subgraphs' waits for PostgreSQL
    // and their consumer groups instead of adding to them.
    const supergraphPath = options.supergraphPath ?? path.join(workDir, "supergraph.graphql");
    progress("composing the supergraph");
    await writeFile(
      supergraphPath,
      await composeSupergraph(
        SUBGRAPHS.map((s) => ({ ...s, url: `http://127.0.0.1:${ports.get(s.name)}/graphql` })),
      ),
    );
    const gateways: RunningProcess[] = [];
    for (let i = 1; i <= gatewayCount; i += 1) {
      const name = gatewayCount === 1 ? "gateway" : `gateway-${i}`;
      const gatewayPort = (i === 1 ? options.ports?.gateway : undefined) ?? (await freePort());
      progress(`starting ${name} on port ${gatewayPort}`);
      const gateway = launch(
        name,
        path.join(ROOT, "gateway"),
        {
          ...baseEnv,
          GATEWAY_PORT: String(gatewayPort),
          GATEWAY_SUPERGRAPH_PATH: supergraphPath,
          // Operation-budget counters in the platform's database, shared as several gateways would.
          GATEWAY_RATE_LIMIT_DATABASE_URL: databaseUrl,
          ...options.processEnv?.gateway,
          ...(name !== "gateway" ? options.processEnv?.[name] : {}),
        },
        gatewayPort,
      );
      processes.push(gateway);
      gateways.push(gateway);
    }
    const gatewaysReady = Promise.all(gateways.map((g) => ready(g, 60_000)));
    // Settled here too, so a gateway that fails while a subgraph's start fails first is no unhandled rejection.
    gatewaysReady.catch(() => undefined);
    // One wave per instance number (every subgraph's first instance, then every second one, …), as a
    // rollout adds replicas: a wave starts on a warm transpile cache and a machine not already busy
    // starting the previous one.
    for (let i = 0; i < instances; i += 1) {
      const wave: RunningProcess[] = [];
      for (const s of SUBGRAPHS) {
        const instance = instancesOf.get(s.name)![i]!;
        const env = {
          ...baseEnv,
          ...(s.name === "accounts" ? sharedKey : {}),
          [portVariable(s.name)]: String(instance.port),
          ...options.processEnv?.[s.name],
          ...(instance.name !== s.name ? options.processEnv?.[instance.name] : {}),
        };
        progress(`starting ${instance.name} on port ${instance.port}`);
        wave.push(launch(instance.name, path.join(ROOT, "subgraphs", s.name), env, instance.port));
      }
      processes.push(...wave);
      await Promise.all(wave.map((p) => ready(p, 90_000)));
    }

    await gatewaysReady;
    const gatewayUrls = gateways.map((g) => `http://127.0.0.1:${g.port}/graphql`);
    return {
      gatewayUrl: gatewayUrls[0]!,
      gatewayUrls,
      databaseUrl,
      processes,
      subgraphUrl: (name) => `http://127.0.0.1:${ports.get(name) ?? spec(name).port}/graphql`,
      serviceEnv: (name) => ({ ...spec(name).env }),
      stopService: async (name) => {
        spec(name);
        const proc = processes.find((p) => p.name === name);
        if (proc) await stopProcess(proc);
      },
      startService: async (name, extraEnv) => {
        const found = spec(name);
        if (extraEnv) found.env = { ...found.env, ...extraEnv };
        const { cwd, env, port } = found;
        const index = processes.findIndex((p) => p.name === name);
        const old = processes[index];
        if (old && old.child.exitCode === null && old.child.signalCode === null) {
          throw new Error(`${name} is still running`);
        }
        const proc = start(name, cwd, env, port, options.onOutput, options.compiled);
        if (index >= 0) processes[index] = proc;
        else processes.push(proc);
        await waitReady(proc, 90_000);
      },
      signalService: async (name, signal) => {
        spec(name);
        const proc = processes.find((p) => p.name === name);
        if (!proc || proc.child.exitCode !== null || proc.child.signalCode !== null) {
          throw new Error(`${name} is not running`);
        }
        const exited =
          signal === "SIGKILL"
            ? new Promise<void>((resolve) => proc.child.once("exit", () => resolve()))
            : Promise.resolve();
        proc.child.kill(signal);
        await exited;
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
