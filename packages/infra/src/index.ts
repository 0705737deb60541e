/**
 * @boxoffice/infra — the real PostgreSQL and Kafka that Boxoffice runs on, without Docker.
 *
 * `up()` uses `DATABASE_URL` / `KAFKA_BROKERS` when set (it only checks they answer), and
 * otherwise starts an embedded PostgreSQL and a local single-node Kafka as detached processes
 * with their data under `<workspace>/.data/`. `down()` stops exactly what `up()` started.
 */
import { loadInfraEnv } from "./env.ts";
import { kafkaPaths, runningKafkaPid, startLocalKafka, stopLocalKafka, waitForKafka } from "./kafka.ts";
import { isAlive } from "./processes.ts";
import {
  checkRunningVersion,
  embeddedDatabaseUrl,
  postgresPaths,
  redact,
  runningPostmasterPid,
  startEmbeddedPostgres,
  stopEmbeddedPostgres,
  waitForPostgres,
} from "./postgres.ts";
import { stderrReporter, type Reporter } from "./reporter.ts";
import {
  readState,
  withLock,
  writeState,
  type EngineRecord,
  type InfraState,
  type Ownership,
} from "./state.ts";

export { InfraError, type InfraErrorCode } from "./errors.ts";
export { loadInfraEnv, type InfraEnv } from "./env.ts";
export { stderrReporter, silentReporter, type Reporter } from "./reporter.ts";
export type { Ownership } from "./state.ts";
/** The engines' programs, for tests that start them the way a deployment does (compose boot test). */
export { resolveKafkaClasspath } from "./kafka.ts";
export { postgresBinary } from "./postgres.ts";
export { freePort, freePortPair } from "./ports.ts";

/** Where each engine comes from after `up()`. */
export type EngineSource = "external" | "started" | "reused";

export interface InfraEndpoints {
  /** Superuser connection URL (the embedded server's, or `DATABASE_URL`). */
  databaseUrl: string;
  /** Broker list for kafkajs, e.g. `["127.0.0.1:19092"]`. */
  kafkaBrokers: string[];
  postgres: EngineSource;
  kafka: EngineSource;
}

export interface UpOptions {
  /** Environment to read configuration from; default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Progress lines while starting and waiting; default stderr. */
  report?: Reporter;
  /**
   * Who owns what this call starts. Default `{ kind: "cli", pid }`: kept until `down()`. A
   * `test-run` owner's engines are stopped by `down({ owner })` at the end of the run; if that run
   * is killed, the next `up()` adopts them (its owner pid is dead) instead of leaving them behind.
   */
  owner?: Ownership;
  /** Only these engines (default both). */
  only?: Array<"postgres" | "kafka">;
}

/**
 * Brings PostgreSQL and Kafka up (idempotent: what is already running is reused) and waits until
 * both answer a real request (`SELECT 1`; a Kafka metadata request).
 *
 * @throws InfraError with a one-paragraph, actionable message (Java/Maven missing, port in use,
 *   download failed, not ready in `INFRA_READY_TIMEOUT_SECONDS`).
 */
export async function up(options: UpOptions = {}): Promise<InfraEndpoints> {
  const env = loadInfraEnv(options.env);
  const report = options.report ?? stderrReporter;
  const owner = options.owner ?? { kind: "cli", pid: process.pid };
  const wanted = new Set(options.only ?? ["postgres", "kafka"]);
  const timeoutMs = env.INFRA_READY_TIMEOUT_SECONDS * 1000;

  return withLock(env.INFRA_DATA_DIR, async () => {
    const state = await readState(env.INFRA_DATA_DIR);
    let postgres: EngineSource = "external";
    let kafka: EngineSource = "external";
    const databaseUrl = env.DATABASE_URL ?? embeddedDatabaseUrl(env.INFRA_POSTGRES_PORT);
    const kafkaBrokers = (env.KAFKA_BROKERS ?? `127.0.0.1:${env.INFRA_KAFKA_PORT}`).split(",");

    if (wanted.has("postgres")) {
      if (env.DATABASE_URL) {
        report(`PostgreSQL: using DATABASE_URL (${redact(env.DATABASE_URL)})`);
        await waitForPostgres(env.DATABASE_URL, timeoutMs, report);
      } else {
        const pid = await runningPostmasterPid(postgresPaths(env.INFRA_DATA_DIR).dir);
        if (pid !== undefined) {
          postgres = "reused";
          state.postgres = adopt(state.postgres, pid, env.INFRA_POSTGRES_PORT, owner);
          await waitForPostgres(databaseUrl, timeoutMs, report);
          await checkRunningVersion(databaseUrl, postgresPaths(env.INFRA_DATA_DIR).dir);
          report(`PostgreSQL: already running (pid ${pid}), reusing it`);
        } else {
          postgres = "started";
          const started = await startEmbeddedPostgres(
            env.INFRA_DATA_DIR,
            env.INFRA_POSTGRES_PORT,
            timeoutMs,
            report,
            // Recorded before waiting: if this run is killed while waiting, the next run knows
            // whose engine it is and adopts it instead of leaving it behind.
            async (pid) => {
              state.postgres = record(pid, env.INFRA_POSTGRES_PORT, owner);
              await writeState(env.INFRA_DATA_DIR, state);
            },
          );
          state.postgres = record(started, env.INFRA_POSTGRES_PORT, owner);
          await writeState(env.INFRA_DATA_DIR, state);
          report(`PostgreSQL: ready at ${redact(databaseUrl)}`);
        }
      }
    }

    if (wanted.has("kafka")) {
      if (env.KAFKA_BROKERS) {
        report(`Kafka: using KAFKA_BROKERS (${env.KAFKA_BROKERS})`);
        await waitForKafka(kafkaBrokers, timeoutMs, report);
      } else {
        const pid = await runningKafkaPid(env.INFRA_DATA_DIR);
        if (pid !== undefined) {
          kafka = "reused";
          state.kafka = adopt(state.kafka, pid, env.INFRA_KAFKA_PORT, owner);
          await waitForKafka(kafkaBrokers, timeoutMs, report);
          report(`Kafka: already running (pid ${pid}), reusing it`);
        } else {
          kafka = "started";
          const started = await startLocalKafka(
            env.INFRA_DATA_DIR,
            {
              port: env.INFRA_KAFKA_PORT,
              controllerPort: env.INFRA_KAFKA_CONTROLLER_PORT,
              heap: env.INFRA_KAFKA_HEAP,
              timeoutMs,
              env: options.env ?? process.env,
              mavenArgs: env.INFRA_MAVEN_ARGS.split(" ").filter(Boolean),
              cacheDir: env.INFRA_CACHE_DIR,
            },
            report,
            async (pid) => {
              state.kafka = record(pid, env.INFRA_KAFKA_PORT, owner);
              await writeState(env.INFRA_DATA_DIR, state);
            },
          );
          state.kafka = record(started, env.INFRA_KAFKA_PORT, owner);
          report(`Kafka: ready at ${kafkaBrokers.join(",")}`);
        }
      }
    }
    await writeState(env.INFRA_DATA_DIR, state);
    return { databaseUrl, kafkaBrokers, postgres, kafka };
  });
}

function record(pid: number, port: number, owner: Ownership): EngineRecord {
  return { pid, port, startedAt: new Date().toISOString(), owner };
}

/**
 * An engine found running in our data directory. Its record is kept, except that an engine owned
 * by a test run that has died (SIGKILL) passes to the caller, so the caller's teardown stops it
 * instead of leaving it behind forever. A running engine with no matching record (state file lost)
 * is recorded as the CLI's: `down` stops it, a test run's teardown does not.
 */
function adopt(
  existing: EngineRecord | undefined,
  pid: number,
  port: number,
  owner: Ownership,
): EngineRecord {
  if (!existing || existing.pid !== pid) return record(pid, port, { kind: "cli", pid: 0 });
  if (existing.owner.kind !== "cli" && !isAlive(existing.owner.pid)) return { ...existing, owner };
  return existing;
}

export interface DownOptions {
  env?: NodeJS.ProcessEnv;
  report?: Reporter;
  /**
   * Stop only engines owned by this owner (a test run's teardown). Without it, stop every engine
   * this launcher started in this data directory — never an external DATABASE_URL/KAFKA_BROKERS.
   */
  owner?: Ownership;
}

/** Stops what `up()` started (Kafka first, so no client loses its broker mid-commit after the DB). */
export async function down(options: DownOptions = {}): Promise<{ stopped: Array<"postgres" | "kafka"> }> {
  const env = loadInfraEnv(options.env);
  const report = options.report ?? stderrReporter;
  return withLock(env.INFRA_DATA_DIR, async () => {
    const state = await readState(env.INFRA_DATA_DIR);
    const stopped: Array<"postgres" | "kafka"> = [];
    const mine = (r: EngineRecord | undefined) =>
      !options.owner || (r?.owner.kind === options.owner.kind && r.owner.pid === options.owner.pid);
    if (mine(state.kafka) && (await runningKafkaPid(env.INFRA_DATA_DIR)) !== undefined) {
      report("stopping Kafka");
      await stopLocalKafka(env.INFRA_DATA_DIR);
      stopped.push("kafka");
    }
    if (mine(state.kafka)) delete state.kafka;
    if (
      mine(state.postgres) &&
      (await runningPostmasterPid(postgresPaths(env.INFRA_DATA_DIR).dir)) !== undefined
    ) {
      report("stopping PostgreSQL");
      await stopEmbeddedPostgres(env.INFRA_DATA_DIR);
      stopped.push("postgres");
    }
    if (mine(state.postgres)) delete state.postgres;
    await writeState(env.INFRA_DATA_DIR, state);
    return { stopped };
  });
}

export interface EngineStatus {
  running: boolean;
  pid?: number;
  port?: number;
  owner?: Ownership;
  /** `external` when configured through DATABASE_URL / KAFKA_BROKERS. */
  source: "embedded" | "local" | "external";
  detail: string;
}

/** Reports what is running, without starting or stopping anything. */
export async function status(options: { env?: NodeJS.ProcessEnv } = {}): Promise<{
  postgres: EngineStatus;
  kafka: EngineStatus;
}> {
  const env = loadInfraEnv(options.env);
  const state: InfraState = await readState(env.INFRA_DATA_DIR);
  const pgPid = env.DATABASE_URL
    ? undefined
    : await runningPostmasterPid(postgresPaths(env.INFRA_DATA_DIR).dir);
  const kPid = env.KAFKA_BROKERS ? undefined : await runningKafkaPid(env.INFRA_DATA_DIR);
  return {
    postgres: env.DATABASE_URL
      ? { running: true, source: "external", detail: redact(env.DATABASE_URL) }
      : {
          running: pgPid !== undefined,
          source: "embedded",
          ...(pgPid !== undefined ? { pid: pgPid } : {}),
          port: env.INFRA_POSTGRES_PORT,
          ...(state.postgres?.owner ? { owner: state.postgres.owner } : {}),
          detail: pgPid !== undefined ? embeddedDatabaseUrl(env.INFRA_POSTGRES_PORT) : "stopped",
        },
    kafka: env.KAFKA_BROKERS
      ? { running: true, source: "external", detail: env.KAFKA_BROKERS }
      : {
          running: kPid !== undefined,
          source: "local",
          ...(kPid !== undefined ? { pid: kPid } : {}),
          port: env.INFRA_KAFKA_PORT,
          ...(state.kafka?.owner ? { owner: state.kafka.owner } : {}),
          detail:
            kPid !== undefined
              ? `127.0.0.1:${env.INFRA_KAFKA_PORT} (log ${kafkaPaths(env.INFRA_DATA_DIR).log})`
              : "stopped",
        },
  };
}
