/**
 * `boxoffice-platform start` — the README's start command: infrastructure (embedded PostgreSQL
 * and local Kafka, or DATABASE_URL / KAFKA_BROKERS), every subgraph's migrations, every subgraph
 * and the gateway, with prefixed logs; prints the gateway and Sandbox URLs; Ctrl-C stops all of it
 * (and the engines it started). Data lives in the `boxoffice` database, so a second start reuses it.
 */
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { exportSigningKey, generateSigningKey } from "@boxoffice/auth-verify";
import { down, loadInfraEnv, up, type Ownership } from "@boxoffice/infra";
import { DEFAULT_CORS_ORIGINS } from "@boxoffice/gateway";
import { GATEWAY_PORT, SUBGRAPH_DECLARATIONS } from "@boxoffice/topology";
import { Command } from "commander";
import { startPlatform, type Platform } from "./platform.ts";
import { DEMO_BUYER, DEMO_PASSWORD, DEMO_SELLER, seed } from "./seed.ts";
import { startWebServer, type WebServer } from "./web.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const COLORS = ["\x1b[36m", "\x1b[35m", "\x1b[33m", "\x1b[32m", "\x1b[34m", "\x1b[31m"];
const RESET = "\x1b[0m";

/** Turns one JSON log line into `time level message {extra}`; other lines pass through. */
function readable(line: string): string {
  try {
    const {
      time,
      level,
      msg,
      service: _service,
      pid: _pid,
      hostname: _host,
      ...rest
    } = JSON.parse(line) as Record<string, unknown>;
    const levelName =
      typeof level === "number"
        ? (
            { 10: "trace", 20: "debug", 30: "info", 40: "warn", 50: "error", 60: "fatal" } as Record<
              number,
              string
            >
          )[level]
        : level;
    const extra = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : "";
    return `${typeof time === "string" ? time.slice(11, 23) : ""} ${String(levelName)} ${String(msg)}${extra}`;
  } catch {
    return line;
  }
}

/** A development signing key kept in .data, so sessions survive a restart of the platform. */
async function devSigningKey(dataDir: string): Promise<string> {
  const file = path.join(dataDir, "dev", "accounts-signing-key.json");
  if (existsSync(file)) return (await readFile(file, "utf8")).trim();
  await mkdir(path.dirname(file), { recursive: true });
  const jwk = JSON.stringify(await exportSigningKey(await generateSigningKey({ extractable: true })));
  await writeFile(file, jwk, { mode: 0o600 });
  return jwk;
}

async function start(options: { gatewayPort: string; webPort: string; seed?: boolean }): Promise<void> {
  const owner: Ownership = { kind: "platform", pid: process.pid };
  const infraEnv = loadInfraEnv();
  const progress = (line: string) => process.stderr.write(`[platform] ${line}\n`);
  const colours = new Map<string, string>();
  const onOutput = (name: string, line: string) => {
    if (!colours.has(name)) colours.set(name, COLORS[colours.size % COLORS.length]!);
    process.stdout.write(`${colours.get(name)}${name.padEnd(10)}${RESET}| ${readable(line)}\n`);
  };

  let platform: Platform | undefined;
  let web: WebServer | undefined;
  let webProblem = "";
  let starting: Promise<unknown> | undefined;
  const abort = new AbortController();
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    progress("stopping…");
    abort.abort(); // a start still in progress stops what it has started, then rejects
    await starting?.catch(() => undefined);
    await web?.stop();
    await platform?.stop().catch((e: unknown) => progress(`stop failed: ${(e as Error).message}`));
    await down({ owner, report: progress }).catch((e: unknown) =>
      progress(`infra down failed: ${(e as Error).message}`),
    );
    progress("stopped.");
    process.exit(code);
  };
  process.once("SIGINT", () => void stopAll(0));
  process.once("SIGTERM", () => void stopAll(0));

  try {
    const endpoints = await up({ owner, report: progress });
    const gatewayPort = Number(options.gatewayPort);
    if (!Number.isInteger(gatewayPort) || gatewayPort < 1024 || gatewayPort > 65535) {
      throw new Error(
        `--gateway-port must be a port number from 1024 to 65535, not "${options.gatewayPort}"`,
      );
    }
    const webPort = Number(options.webPort);
    if (!Number.isInteger(webPort) || webPort < 1024 || webPort > 65535) {
      throw new Error(`--web-port must be a port number from 1024 to 65535, not "${options.webPort}"`);
    }
    // The web client calls the gateway at `localhost`, the same site as its own origin, so the
    // SameSite=Lax session cookie travels with its credentialed CORS requests.
    // The platform is useful without its example front end: a missing build or a taken port only warns.
    web = await startWebServer({
      port: webPort,
      gatewayUrl: `http://localhost:${gatewayPort}/graphql`,
    }).catch((error: unknown) => {
      webProblem = `not served: ${(error as Error).message}${
        (error as NodeJS.ErrnoException).code === "EADDRINUSE" ? " (choose another port with --web-port)" : ""
      }`;
      progress(`web client ${webProblem}`);
      return undefined;
    });
    const corsOrigins = process.env.GATEWAY_CORS_ORIGINS?.split(",") ?? DEFAULT_CORS_ORIGINS;
    const pending = startPlatform({
      adminDatabaseUrl: endpoints.databaseUrl,
      kafkaBrokers: endpoints.kafkaBrokers.join(","),
      databaseName: "boxoffice",
      nodeEnv: "development",
      // Every subgraph on its declared port (@boxoffice/topology), as the README and the web client expect.
      ports: {
        gateway: gatewayPort,
        ...Object.fromEntries(SUBGRAPH_DECLARATIONS.map((s) => [s.name, s.port])),
      },
      supergraphPath: path.join(ROOT, "gateway", "supergraph.graphql"),
      env: { LOG_LEVEL: "info" },
      processEnv: {
        accounts: { AUTH_SIGNING_KEY: await devSigningKey(infraEnv.INFRA_DATA_DIR) },
        gateway: {
          GATEWAY_CORS_ORIGINS: [
            ...new Set([...corsOrigins.map((o) => o.trim()), `http://localhost:${webPort}`]),
          ].join(","),
        },
      },
      onOutput,
      onProgress: progress,
      signal: abort.signal,
    });
    starting = pending;
    platform = await pending;
    if (options.seed) {
      progress("seeding demo data through the gateway");
      await seed(platform.gatewayUrl, progress);
      progress(`demo users: ${DEMO_SELLER} and ${DEMO_BUYER}, password "${DEMO_PASSWORD}"`);
    }
    process.stderr.write(
      [
        "",
        `  Boxoffice is running.`,
        `  GraphQL endpoint:  ${platform.gatewayUrl}`,
        `  Web client:        ${web?.url ?? webProblem}`,
        `  Apollo Sandbox:    open ${platform.gatewayUrl} in a browser (loads Sandbox from Apollo's CDN)`,
        `  Stop with Ctrl-C.`,
        "",
      ].join("\n") + "\n",
    );
  } catch (error) {
    if (stopping) return; // interrupted by Ctrl-C: stopAll is finishing
    progress(`start failed: ${(error as Error).message}`);
    await stopAll(1);
  }
}

const program = new Command().name("boxoffice-platform").showHelpAfterError();
program
  .command("start")
  .description("start infrastructure, migrations, every subgraph and the gateway; Ctrl-C stops everything")
  .option("--gateway-port <port>", "gateway port (1024-65535)", String(GATEWAY_PORT))
  .option(
    "--web-port <port>",
    "port of the web client (1024-65535), served at http://localhost:<port>",
    "3000",
  )
  .option("--seed", "load demo users, listings and an order through the GraphQL API")
  .action(start);
// `pnpm start -- --gateway-port 4100` passes the `--` through; it only separates pnpm's options.
await program.parseAsync(process.argv.filter((arg, i) => !(arg === "--" && i >= 2)));
