/**
 * The Boxoffice gateway, Hive Gateway and the subgraph direct, side by side in one run.
 *
 *   pnpm bench:gateway          (from the repository root; BENCH_SECONDS, BENCH_ROUNDS,
 *                                BENCH_CONNECTIONS to tune, BENCH_CPU_PROF=<dir> to profile)
 *
 * Starts (or reuses) the local engines, then the whole platform on free ports with its own database
 * and Kafka namespace, seeds it (20 listings, a buyer with an order), starts Hive Gateway on the same
 * supergraph file and the same running subgraphs, and drives each target with autocannon: every
 * query at BENCH_CONNECTIONS (50) connections and at 1 connection, BENCH_ROUNDS (5) rounds of
 * BENCH_SECONDS (4) s each, targets alternating (their order rotates each round). A response that is
 * not HTTP 2xx or carries GraphQL `errors` counts as an error. Printed: the median over rounds of
 * req/s, p50 and p99 latency (ms) over the rounds in which the target answered at all, the errors
 * per target and the rounds in which it answered nothing (a starved machine), the ratio Boxoffice/Hive (req/s), the
 * gateway's p50 minus the direct subgraph's p50 at 1 connection, and each process's idle RSS after
 * the run. Everything shares this machine's cores: compare within one run, not across machines.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { up } from "@boxoffice/infra";
import {
  DEMO_BUYER,
  DEMO_PASSWORD,
  DEMO_SELLER,
  freePort,
  seed,
  startPlatform,
  type Platform,
} from "@boxoffice/platform";
import autocannon from "autocannon";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const CPU_PROF = process.env.BENCH_CPU_PROF;
const LISTINGS = 20;

const here = path.dirname(fileURLToPath(import.meta.url));
const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

interface Target {
  name: "boxoffice" | "hive" | "direct";
  url: string;
}

interface Scenario {
  name: string;
  query: string;
  variables?: Record<string, unknown>;
  /** Whether the session cookie is sent. */
  cookie: "buyer" | "seller" | undefined;
  /** The subgraph that alone answers this operation, for the direct comparison. */
  direct?: string;
}

interface Figures {
  rps: number;
  /** Failures by kind: socket errors, timeouts (10 s), non-2xx answers, GraphQL `errors`. */
  detail: string;
  /** Mean latency, ms, with sub-millisecond resolution (autocannon's percentiles are whole ms). */
  mean: number;
  p50: number;
  p99: number;
  errors: number;
}

async function gql(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<{ body: { data?: Record<string, unknown> | null; errors?: unknown[] }; res: Response }> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return { body: (await res.json()) as { data?: Record<string, unknown> | null; errors?: unknown[] }, res };
}

/** Signs in through the gateway and returns the `Cookie` header its `Set-Cookie` asks for. */
async function sessionCookie(gatewayUrl: string, email: string, password: string): Promise<string> {
  const { res, body } = await gql(
    gatewayUrl,
    "mutation ($e: String!, $p: String!) { signIn(input: { email: $e, password: $p }) { token } }",
    { e: email, p: password },
  );
  const cookies = res.headers.getSetCookie().map((c) => c.split(";")[0]);
  if (!cookies.length) throw new Error(`signIn set no cookie: ${JSON.stringify(body)}`);
  return cookies.join("; ");
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/**
 * Rounds in which at least one request completed. On a shared machine a target can get no CPU for
 * a whole round (every request still in flight when it ends); such a round says nothing about the
 * target, so medians leave it out and the table counts it as "stalled".
 */
function completed(runs: Figures[]): Figures[] {
  return runs.filter((r) => r.rps > 0);
}

function rssMb(pid: number | undefined): number {
  if (!pid) return NaN;
  try {
    const line = readFileSync(`/proc/${pid}/status`, "utf8")
      .split("\n")
      .find((l) => l.startsWith("VmRSS:"));
    return Math.round(Number(line?.replace(/\D+/g, "") ?? NaN) / 1024);
  } catch {
    return NaN; // not Linux: no /proc
  }
}

async function load(
  target: Target,
  scenario: Scenario,
  cookies: Record<string, string>,
  connections: number,
  seconds: number,
): Promise<Figures> {
  const result = await autocannon({
    url: target.url,
    method: "POST",
    connections,
    duration: seconds,
    headers: {
      "content-type": "application/json",
      ...(scenario.cookie ? { cookie: cookies[scenario.cookie]! } : {}),
    },
    body: JSON.stringify({ query: scenario.query, variables: scenario.variables ?? {} }),
    // A GraphQL error is a failed request even with HTTP 200.
    verifyBody: (body) => body !== undefined && !String(body).includes('"errors"'),
  });
  return {
    rps: result.requests.total / result.duration,
    mean: result.latency.mean,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx + (result.mismatches ?? 0),
    detail: `${result.errors} socket, ${result.timeouts} timeouts, ${result.non2xx} non-2xx, ${result.mismatches ?? 0} GraphQL`,
  };
}

async function waitHealthy(url: string, child: ChildProcess, output: string[]): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`Hive Gateway exited:\n${output.join("")}`);
    const ok = await fetch(url).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await sleep(200);
  }
  throw new Error(`Hive Gateway not healthy after 60 s:\n${output.join("")}`);
}

const profDir = CPU_PROF ? path.resolve(CPU_PROF) : undefined;
if (profDir) await mkdir(profDir, { recursive: true });
/** Profiled processes load cpu-profile.js (Node 20 refuses `--cpu-prof` in NODE_OPTIONS). */
const profEnv = (name: string): Record<string, string> =>
  profDir
    ? {
        NODE_OPTIONS: `--import ${path.join(here, "..", "cpu-profile.js")}`,
        CPU_PROFILE_DIR: path.join(profDir, name),
      }
    : {};

log(
  `load average before start: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")}`,
);
const endpoints = await up({ report: log, only: ["postgres", "kafka"] });
const workDir = await mkdtemp(path.join(tmpdir(), "boxoffice-bench-"));
const supergraphPath = path.join(workDir, "supergraph.graphql");
let platform: Platform | undefined;
let hive: ChildProcess | undefined;
try {
  platform = await startPlatform({
    adminDatabaseUrl: endpoints.databaseUrl,
    kafkaBrokers: endpoints.kafkaBrokers.join(","),
    supergraphPath,
    onProgress: log,
    // One load generator is one client address: the per-client operation budget (issue 12) would
    // refuse most requests. Budget accounting still runs on every request, as in production.
    env: {
      GATEWAY_OPERATION_BUDGET: "1000000000",
      ACCOUNTS_SIGNUP_PER_ADDRESS: "100000",
      ORDERS_MAX_PENDING_PER_BUYER: "1000",
      // Unsealed subgraphs (empty = unset): Hive Gateway and the direct target send no gateway secret.
      GATEWAY_SHARED_SECRET: "",
    },
    ...(profDir
      ? {
          processEnv: {
            gateway: profEnv("gateway"),
            tickets: profEnv("tickets"),
          },
        }
      : {}),
  });
  const gatewayUrl = platform.gatewayUrl;
  log("seeding");
  const seeded = await seed(gatewayUrl, log);
  for (let i = seeded.ticketIds.length; i < LISTINGS; i += 1) {
    const { body } = await gql(
      gatewayUrl,
      "mutation ($i: CreateTicketInput!) { createTicket(input: $i) { id } }",
      { i: { title: `Benchmark listing ${i}`, priceMinor: 1_000 + i, currency: "EUR" } },
      { authorization: `Bearer ${seeded.sellerToken}` },
    );
    if (body.errors) throw new Error(`createTicket failed: ${JSON.stringify(body.errors)}`);
  }
  const cookies = {
    buyer: await sessionCookie(gatewayUrl, DEMO_BUYER, DEMO_PASSWORD),
    seller: await sessionCookie(gatewayUrl, DEMO_SELLER, DEMO_PASSWORD),
  };
  const ticketId = seeded.ticketIds[1]!;
  const scenarios: Scenario[] = [
    {
      name: "tickets + seller + availability (3 subgraphs)",
      query:
        "query Listings { tickets(first: 20) { id title priceMinor currency seller { id createdAt } availability } }",
      cookie: undefined,
    },
    {
      name: "tickets { id title priceMinor currency } (1 subgraph)",
      query: "query Tickets { tickets(first: 20) { id title priceMinor currency } }",
      cookie: undefined,
      direct: "tickets",
    },
    {
      name: "me { orders } with a session cookie (2 subgraphs)",
      query:
        "query MyOrders { me { id email orders { orderId status ticketTitle amount { amountMinor currency } } } }",
      cookie: "buyer",
    },
    {
      name: "mutation updateTicket with a session cookie (1 subgraph)",
      query:
        "mutation Rename($id: ID!, $i: UpdateTicketInput!) { updateTicket(id: $id, input: $i) { id title version } }",
      variables: { id: ticketId, i: { title: "Kraftwerk 3-D — 14 Jan, seat 12B" } },
      cookie: "seller",
      direct: "tickets",
    },
  ];

  // Wait until the storefront's read model has every listing, so each round does the same work.
  const deadline = Date.now() + 60_000;
  for (;;) {
    const { body } = await gql(gatewayUrl, scenarios[0]!.query);
    const tickets = (body.data?.tickets ?? []) as Array<{ availability: string | null }>;
    if (!body.errors && tickets.length >= LISTINGS && tickets.every((t) => t.availability)) break;
    if (Date.now() > deadline) throw new Error(`listings not ready: ${JSON.stringify(body).slice(0, 500)}`);
    await sleep(250);
  }

  const hivePort = await freePort();
  const hiveBin = path.join(
    path.dirname(createRequire(import.meta.url).resolve("@graphql-hive/gateway/package.json")),
    "dist",
    "bin.js",
  );
  const hiveOutput: string[] = [];
  hive = spawn(
    process.execPath,
    [
      hiveBin,
      "supergraph",
      supergraphPath,
      "--port",
      String(hivePort),
      "--host",
      "127.0.0.1",
      "--config-path",
      path.join(here, "hive-gateway.config.ts"),
    ],
    {
      env: { ...process.env, NODE_ENV: "production", ...profEnv("hive") },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const keep = (chunk: Buffer) => {
    hiveOutput.push(chunk.toString());
    if (hiveOutput.length > 200) hiveOutput.shift();
  };
  hive.stdout?.on("data", keep);
  hive.stderr?.on("data", keep);
  await waitHealthy(`http://127.0.0.1:${hivePort}/healthcheck`, hive, hiveOutput);
  const hiveUrl = `http://127.0.0.1:${hivePort}/graphql`;

  const targetsOf = (s: Scenario): Target[] => [
    { name: "boxoffice", url: gatewayUrl },
    { name: "hive", url: hiveUrl },
    ...(s.direct ? [{ name: "direct" as const, url: platform!.subgraphUrl(s.direct) }] : []),
  ];
  // Same answer everywhere before measuring anything.
  for (const s of scenarios) {
    const answers = await Promise.all(
      targetsOf(s).map(async (t) => {
        const { body, res } = await gql(
          t.url,
          s.query,
          s.variables,
          s.cookie ? { cookie: cookies[s.cookie] } : {},
        );
        if (!res.ok || body.errors) throw new Error(`${t.name} failed "${s.name}": ${JSON.stringify(body)}`);
        return JSON.stringify(body.data);
      }),
    );
    if (answers.some((a) => a !== answers[0])) {
      throw new Error(`targets disagree on "${s.name}":\n${answers.join("\n")}`);
    }
  }

  log(`warming up; then ${ROUNDS} rounds × ${SECONDS} s per target, query and connection count`);
  for (const s of scenarios) for (const t of targetsOf(s)) await load(t, s, cookies, CONNECTIONS, 2);

  const results = new Map<string, Figures[]>();
  const key = (s: Scenario, c: number, t: Target["name"]) => `${s.name}|${c}|${t}`;
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const s of scenarios) {
      for (const connections of [CONNECTIONS, 1]) {
        const targets = targetsOf(s);
        const rotated = targets.map((_, i) => targets[(i + round) % targets.length]!);
        for (const t of rotated) {
          const figures = await load(t, s, cookies, connections, SECONDS);
          const k = key(s, connections, t.name);
          results.set(k, [...(results.get(k) ?? []), figures]);
          log(
            `round ${round + 1} ${t.name.padEnd(9)} c=${String(connections).padEnd(3)} ${s.name}: ` +
              `${figures.rps.toFixed(0)} req/s, mean ${figures.mean.toFixed(2)} ms, p50 ${figures.p50} ms, errors ${figures.errors}` +
              (figures.errors ? ` (${figures.detail})` : ""),
          );
        }
      }
    }
  }

  await sleep(5_000);
  const rss: Array<[string, number]> = [
    ...platform.processes.map((p): [string, number] => [p.name, rssMb(p.child.pid)]),
    ["hive", rssMb(hive.pid)],
  ];

  const lines: string[] = [];
  const out = (line = "") => lines.push(line);
  out(
    `Gateway benchmark: ${ROUNDS} rounds × ${SECONDS} s per cell, medians over rounds; ` +
      `load average after the run ${loadavg()
        .map((l) => l.toFixed(2))
        .join(" ")}`,
  );
  for (const connections of [CONNECTIONS, 1]) {
    out();
    out(`## ${connections} connection${connections === 1 ? "" : "s"}`);
    out();
    out("| query | target | req/s | mean ms | p50 ms | p99 ms | errors | stalled rounds |");
    out("|---|---|---:|---:|---:|---:|---:|---:|");
    for (const s of scenarios) {
      for (const t of targetsOf(s)) {
        const all = results.get(key(s, connections, t.name)) ?? [];
        const runs = completed(all);
        out(
          `| ${s.name} | ${t.name} | ${median(runs.map((r) => r.rps)).toFixed(0)} | ` +
            `${median(runs.map((r) => r.mean)).toFixed(2)} | ` +
            `${median(runs.map((r) => r.p50)).toFixed(1)} | ${median(runs.map((r) => r.p99)).toFixed(1)} | ` +
            `${all.reduce((n, r) => n + r.errors, 0)} | ${all.length - runs.length} |`,
        );
      }
    }
  }
  out();
  out("## Ratios");
  out();
  out(
    `| query | Boxoffice/Hive req/s at ${CONNECTIONS} | Boxoffice/Hive req/s at 1 | ` +
      "Boxoffice − direct at 1: p50 (mean) ms | Hive − direct at 1: p50 (mean) ms |",
  );
  out("|---|---:|---:|---:|---:|");
  for (const s of scenarios) {
    const med = (c: number, t: Target["name"], f: Exclude<keyof Figures, "detail">) =>
      median(completed(results.get(key(s, c, t)) ?? []).map((r) => r[f]));
    // At one connection requests are back to back, so the mean is exact where whole-ms p50s are not.
    const overhead = (t: Target["name"]) =>
      s.direct
        ? `${(med(1, t, "p50") - med(1, "direct", "p50")).toFixed(0)} (mean ${(med(1, t, "mean") - med(1, "direct", "mean")).toFixed(2)})`
        : "—";
    out(
      `| ${s.name} | ${(med(CONNECTIONS, "boxoffice", "rps") / med(CONNECTIONS, "hive", "rps")).toFixed(2)} | ` +
        `${(med(1, "boxoffice", "rps") / med(1, "hive", "rps")).toFixed(2)} | ${overhead("boxoffice")} | ${overhead("hive")} |`,
    );
  }
  out();
  out("## Idle RSS after the run (MB)");
  out();
  out(`| ${rss.map(([n]) => n).join(" | ")} |`);
  out(`|${rss.map(() => "---:").join("|")}|`);
  out(`| ${rss.map(([, mb]) => mb).join(" | ")} |`);
  process.stdout.write(`${lines.join("\n")}\n`);
} finally {
  if (hive && hive.exitCode === null) {
    const exited = new Promise((resolve) => hive!.once("exit", resolve));
    hive.kill("SIGTERM");
    await exited;
  }
  await platform?.stop();
  await rm(workDir, { recursive: true, force: true });
}
