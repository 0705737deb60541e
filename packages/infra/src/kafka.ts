import { execFile, spawn } from "node:child_process";
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { constants, existsSync } from "node:fs";
import { access, mkdir, open, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Kafka, logLevel } from "kafkajs";
import { InfraError } from "./errors.ts";
import { isOurProcess, isPortInUse, stopProcess } from "./processes.ts";
import type { Reporter } from "./reporter.ts";

const run = promisify(execFile);

/** The Maven project that names the broker jars (Kafka version, log4j binding). */
export const KAFKA_POM = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../kafka/pom.xml");

/** Marker in the broker's command line: identifies our JVM when checking a pid file. */
const MAIN_CLASS = "kafka.Kafka";

export interface LocalKafkaPaths {
  root: string;
  /** KRaft log dir (metadata and topic data); formatted once. */
  logDir: string;
  pidFile: string;
  log: string;
  properties: string;
  log4j: string;
}

export function kafkaPaths(dataDir: string): LocalKafkaPaths {
  const root = path.join(dataDir, "kafka");
  return {
    root,
    logDir: path.join(root, "kraft-logs"),
    pidFile: path.join(root, "kafka.pid"),
    log: path.join(dataDir, "logs", "kafka.log"),
    properties: path.join(root, "server.properties"),
    log4j: path.join(root, "log4j2.yaml"),
  };
}

/**
 * Checks that `java` 17+ is on PATH (Kafka 4 brokers need Java 17).
 *
 * @throws InfraError `JAVA_MISSING` / `JAVA_TOO_OLD` with what to do instead.
 */
export async function checkJava(env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let output: string;
  try {
    const { stderr, stdout } = await run("java", ["-version"], { env });
    output = `${stderr}${stdout}`;
  } catch (error) {
    throw new InfraError(
      "JAVA_MISSING",
      "Java was not found on PATH. The local Kafka broker runs on the JVM: install Java 17 or newer (e.g. `apt-get install openjdk-17-jre-headless` or Temurin 17) and Maven, or set KAFKA_BROKERS=host:port to use a Kafka you already run, or use `docker compose up`.",
      { cause: error },
    );
  }
  const match = /version "(\d+)(?:\.(\d+))?/.exec(output);
  const major = match ? (match[1] === "1" ? Number(match[2]) : Number(match[1])) : 0;
  if (major < 17) {
    throw new InfraError(
      "JAVA_TOO_OLD",
      `Java ${major || "(unknown version)"} was found, but the local Kafka broker (Kafka 4) needs Java 17 or newer. Install Java 17+ and put it first on PATH, or set KAFKA_BROKERS=host:port to use a Kafka you already run, or use \`docker compose up\`.`,
    );
  }
  return major;
}

/**
 * Returns the broker's Java classpath, resolving the official `org.apache.kafka` jars from Maven
 * Central with Maven the first time. Maven keeps the jars in its local repository (~/.m2), which
 * is the cache: later calls (and later clones) reuse them; the classpath itself is memoised in
 * `<cacheDir>/kafka-classpath-<pom hash>.txt` (INFRA_CACHE_DIR, machine-wide), so a start with a new
 * data directory does not run Maven either. A memo naming a jar that is gone is resolved again.
 *
 * @throws InfraError `MAVEN_MISSING` or `KAFKA_DOWNLOAD_FAILED` with what to do instead.
 */
export async function resolveKafkaClasspath(
  cacheDir: string,
  report: Reporter,
  env: NodeJS.ProcessEnv = process.env,
  mavenArgs: string[] = [],
): Promise<string> {
  const pom = await readFile(KAFKA_POM);
  const hash = createHash("sha256").update(pom).digest("hex").slice(0, 12);
  const cpFile = path.join(cacheDir, `kafka-classpath-${hash}.txt`);
  if (existsSync(cpFile)) {
    const cp = (await readFile(cpFile, "utf8")).trim();
    if (cp && cp.split(path.delimiter).every((jar) => existsSync(jar))) return cp;
  }
  try {
    await run("mvn", ["-v"], { env });
  } catch (error) {
    throw new InfraError(
      "MAVEN_MISSING",
      "Maven (`mvn`) was not found on PATH. The local Kafka broker's jars are fetched once from Maven Central with Maven: install Maven 3.8+ (e.g. `apt-get install maven`), or set KAFKA_BROKERS=host:port to use a Kafka you already run, or use `docker compose up`.",
      { cause: error },
    );
  }
  report("resolving Apache Kafka jars with Maven (first run only; later runs use the ~/.m2 cache)");
  // The memo is best effort: a cache folder that cannot be written (a read-only home, HOME=/ in a
  // container) costs a Maven run per start, never the start. Maven writes a file of this process's
  // own, renamed into place once whole: test files start brokers in parallel, and one must never
  // read another's half-written memo.
  const writable = await mkdir(cacheDir, { recursive: true })
    .then(() => access(cacheDir, constants.W_OK))
    .then(
      () => true,
      () => false,
    );
  const partial = path.join(
    writable ? cacheDir : tmpdir(),
    `kafka-classpath-${hash}.${process.pid}.${randomUUID()}.partial`,
  );
  try {
    await run(
      "mvn",
      [
        "-q",
        "-B",
        ...mavenArgs,
        "-f",
        KAFKA_POM,
        "dependency:build-classpath",
        `-Dmdep.outputFile=${partial}`,
      ],
      { maxBuffer: 16 * 1024 * 1024, env },
    );
    const cp = (await readFile(partial, "utf8")).trim();
    if (writable) await rename(partial, cpFile).catch(() => undefined);
    return cp;
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    const tail = `${e.stdout ?? ""}${e.stderr ?? ""}`.trim().split("\n").slice(-5).join(" | ");
    throw new InfraError(
      "KAFKA_DOWNLOAD_FAILED",
      `Maven could not resolve the Kafka broker jars from Maven Central (${tail || e.message}). Check your network or Maven proxy settings (~/.m2/settings.xml) and retry, or set KAFKA_BROKERS=host:port to use a Kafka you already run, or use \`docker compose up\`.`,
      { cause: error },
    );
  } finally {
    await rm(partial, { force: true });
  }
}

/** The broker's pid from its pid file when that process is our live broker JVM. */
export async function runningKafkaPid(dataDir: string): Promise<number | undefined> {
  try {
    const pid = Number((await readFile(kafkaPaths(dataDir).pidFile, "utf8")).trim());
    if (Number.isInteger(pid) && pid > 0 && (await isOurProcess(pid, MAIN_CLASS))) return pid;
  } catch {
    // no pid file: not running
  }
  return undefined;
}

/**
 * Broker settings for one node in KRaft combined mode. Internal topics get replication factor 1,
 * or consumer groups loop on "group coordinator is not available" on a single broker (Kafka docs,
 * "KRaft" and "offsets.topic.replication.factor"). Topic auto-creation is off: topics are created
 * by the events package's admin step, so a typo can never create a topic.
 */
function serverProperties(paths: LocalKafkaPaths, port: number, controllerPort: number): string {
  return [
    "process.roles=broker,controller",
    "node.id=1",
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
    "controller.listener.names=CONTROLLER",
    "inter.broker.listener.name=PLAINTEXT",
    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
    `log.dirs=${paths.logDir}`,
    "num.partitions=3",
    "default.replication.factor=1",
    "min.insync.replicas=1",
    "offsets.topic.replication.factor=1",
    "offsets.topic.num.partitions=10",
    "transaction.state.log.replication.factor=1",
    "transaction.state.log.min.isr=1",
    "share.coordinator.state.topic.replication.factor=1",
    "share.coordinator.state.topic.min.isr=1",
    "auto.create.topics.enable=false",
    "delete.topic.enable=true",
    // A single local node: don't wait 3 s for more members before the first rebalance.
    "group.initial.rebalance.delay.ms=0",
    "",
  ].join("\n");
}

function log4jConfig(logFile: string): string {
  return [
    "Configuration:",
    "  Appenders:",
    "    File:",
    "      name: FILE",
    `      fileName: "${logFile}"`,
    "      PatternLayout:",
    '        pattern: "[%d] %p %m (%c)%n"',
    "  Loggers:",
    "    Root:",
    "      level: INFO",
    "      AppenderRef:",
    "        - ref: FILE",
    "",
  ].join("\n");
}

/**
 * A KRaft cluster id: 16 random bytes, base64url without padding (Kafka's `Uuid` text form), never
 * starting with `-`: `kafka-storage format -t <id>` would read such an id as an option and fail
 * ("argument --cluster-id/-t: expected one argument"), one start in 64. Kafka's own
 * `Uuid.randomUuid()` draws again for the same reason (org.apache.kafka.common.Uuid).
 */
export function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString("base64url");
    if (!id.startsWith("-")) return id;
  }
}

/**
 * Waits until the broker answers a metadata request through kafkajs — a real client round trip.
 *
 * @throws InfraError `NOT_READY` after `timeoutMs`, or as soon as `isDead()` says the broker exited.
 */
export async function waitForKafka(
  brokers: string[],
  timeoutMs: number,
  report: Reporter,
  isDead: () => boolean = () => false,
  logFile?: string,
): Promise<void> {
  const started = Date.now();
  let lastReport = 0;
  let lastError = "";
  const kafka = new Kafka({
    clientId: "boxoffice-infra",
    brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2000,
    retry: { retries: 0 },
  });
  for (;;) {
    const admin = kafka.admin();
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      await admin.disconnect();
      if (cluster.brokers.length > 0) return;
      lastError = "no brokers in metadata yet";
    } catch (error) {
      lastError = (error as Error).message;
      await admin.disconnect().catch(() => undefined);
    }
    const elapsed = Date.now() - started;
    if (isDead() || elapsed > timeoutMs) {
      throw new InfraError(
        "NOT_READY",
        `Kafka at ${brokers.join(",")} did not answer a metadata request within ${Math.round(elapsed / 1000)} s (last error: ${lastError}).${logFile ? ` Its log is ${logFile}.` : ""} Check that it is running, or set KAFKA_BROKERS to a Kafka you have.`,
      );
    }
    if (elapsed - lastReport >= 2000) {
      lastReport = elapsed;
      report(`waiting for Kafka (${Math.round(elapsed / 1000)} s): ${lastError}`);
    }
    await sleep(250);
  }
}

/**
 * Starts a real single-node Apache Kafka (KRaft, combined broker + controller) from the official
 * jars as a detached JVM, formatting its storage on first use.
 *
 * @returns the broker's pid.
 * @throws InfraError `JAVA_MISSING`, `JAVA_TOO_OLD`, `MAVEN_MISSING`, `KAFKA_DOWNLOAD_FAILED`,
 *   `PORT_IN_USE`, `START_FAILED` or `NOT_READY`, each with what to do next.
 */
export async function startLocalKafka(
  dataDir: string,
  options: {
    port: number;
    controllerPort: number;
    heap: string;
    timeoutMs: number;
    /** Environment for java/mvn (PATH, JAVA_HOME); default process.env. */
    env?: NodeJS.ProcessEnv;
    /** Extra Maven arguments (INFRA_MAVEN_ARGS). */
    mavenArgs?: string[];
    /** Where the resolved classpath is memoised (INFRA_CACHE_DIR). */
    cacheDir: string;
  },
  report: Reporter,
  /** Called as soon as the broker process exists, before waiting for it (to record it at once). */
  onSpawned: (pid: number) => Promise<void> = () => Promise.resolve(),
): Promise<number> {
  const paths = kafkaPaths(dataDir);
  for (const port of [options.port, options.controllerPort]) {
    if (await isPortInUse(port)) {
      throw new InfraError(
        "PORT_IN_USE",
        `Port ${port} on 127.0.0.1 is already in use by another program, so the local Kafka broker cannot start. Stop that program, choose other ports with INFRA_KAFKA_PORT / INFRA_KAFKA_CONTROLLER_PORT, or set KAFKA_BROKERS=host:port to use a Kafka you already run.`,
      );
    }
  }
  const env = options.env ?? process.env;
  await checkJava(env);
  const classpath = await resolveKafkaClasspath(options.cacheDir, report, env, options.mavenArgs);
  await mkdir(paths.logDir, { recursive: true });
  await mkdir(path.dirname(paths.log), { recursive: true });
  await writeFile(paths.properties, serverProperties(paths, options.port, options.controllerPort));
  await writeFile(paths.log4j, log4jConfig(paths.log));

  if (!existsSync(path.join(paths.logDir, "meta.properties"))) {
    report(`formatting Kafka storage in ${paths.logDir} (first run only)`);
    try {
      await run(
        "java",
        [
          "-cp",
          classpath,
          `-Dlog4j2.configurationFile=${paths.log4j}`,
          "kafka.tools.StorageTool",
          "format",
          "--ignore-formatted",
          `--cluster-id=${newClusterId()}`,
          "-c",
          paths.properties,
        ],
        { env },
      );
    } catch (error) {
      throw new InfraError(
        "START_FAILED",
        `Formatting Kafka storage in ${paths.logDir} failed: ${(error as Error).message}. Delete ${paths.root} and retry.`,
        { cause: error },
      );
    }
  }

  const logHandle = await open(paths.log, "a");
  const child = spawn(
    "java",
    [
      `-Xms${options.heap}`,
      `-Xmx${options.heap}`,
      "-XX:+UseG1GC",
      "-XX:TieredStopAtLevel=1", // C1 only: starts faster; peak throughput matters little locally
      "-Djava.awt.headless=true",
      `-Dlog4j2.configurationFile=${paths.log4j}`,
      "-cp",
      classpath,
      MAIN_CLASS,
      paths.properties,
    ],
    { detached: true, stdio: ["ignore", logHandle.fd, logHandle.fd], env },
  );
  child.unref();
  await logHandle.close();
  let exited = false;
  child.once("exit", () => {
    exited = true;
  });
  if (child.pid === undefined)
    throw new InfraError("START_FAILED", `Could not spawn java; see ${paths.log}.`);
  await writeFile(paths.pidFile, String(child.pid));
  await onSpawned(child.pid);
  report(`Kafka starting (pid ${child.pid}, port ${options.port}, log ${paths.log})`);
  await waitForKafka([`127.0.0.1:${options.port}`], options.timeoutMs, report, () => exited, paths.log);
  return child.pid;
}

/** Stops the local broker (SIGTERM: controlled shutdown), escalating to SIGKILL after 30 s. */
export async function stopLocalKafka(dataDir: string): Promise<void> {
  const pid = await runningKafkaPid(dataDir);
  if (pid !== undefined) await stopProcess(pid, "SIGTERM", 30_000);
}
