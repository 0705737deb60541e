/**
 * Runs docker-compose.yml without Docker: every service is a real process in its own network
 * namespace (see compose-network.ts), started in compose's dependency order, with exactly the
 * environment and command compose and the image give it.
 *
 * What each service runs:
 * - Built services (`build: { args: { SERVICE } }`): the runtime stage of the Dockerfile — its `ENV`,
 *   `WORKDIR` and `CMD` (or the service's `command`), with compose's `environment` over the image's
 *   `ENV`, as compose does. The image is the repository after `pnpm install` and the build tasks, copied
 *   to `/app`; this working tree, installed and built, is that file tree, so `/app` maps to the
 *   repository root (the one path mapping; anything else under `/` is refused).
 * - `postgres:17`: PostgreSQL 17 from @boxoffice/infra's embedded binaries, initialised the way the
 *   image's entrypoint does from POSTGRES_USER / POSTGRES_PASSWORD (scram-sha-256 for every host,
 *   listening on all addresses, port 5432).
 * - `apache/kafka`: the broker from @boxoffice/infra's jars with the properties the image derives from
 *   the `KAFKA_*` variables (KAFKA_FOO_BAR → foo.bar, `__` → `_`, `___` → `-`; apache/kafka docker
 *   docs), its storage formatted on first start as the image does.
 * Health checks: a `CMD` check is run as written inside the service's namespace; the engines' checks
 * call image tools (`pg_isready`, `kafka-broker-api-versions.sh`) that are stood in for by the same
 * question asked with a client (a login and `SELECT 1`; a metadata request).
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { chmod, chown, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { loadInfraEnv, postgresBinary, resolveKafkaClasspath } from "@boxoffice/infra";
import pg from "pg";
import type { ComposeNetwork } from "./compose-network.ts";

const run = promisify(execFile);

export interface ComposeService {
  image?: string;
  build?: { context: string; args?: Record<string, string> };
  environment?: Record<string, string | number>;
  command?: string[] | string;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[]; interval?: string; retries?: number };
}

/** The runtime stage of a Dockerfile: what a container of that image starts with. */
export interface ImageConfig {
  env: Record<string, string>;
  workdir: string;
  cmd: string[];
}

/**
 * Reads the last stage of `dockerfile` (the runtime image) for the build `args`: `ARG` defaults,
 * `ENV key=value …`, the last `WORKDIR` and the exec-form `CMD`, with `${ARG}` substituted.
 *
 * @throws Error when the stage has no exec-form CMD or WORKDIR.
 */
export function imageConfig(dockerfile: string, args: Record<string, string>): ImageConfig {
  const stages = dockerfile.split(/^FROM /m);
  const stage = stages[stages.length - 1] ?? "";
  const vars: Record<string, string> = {};
  const env: Record<string, string> = {};
  let workdir = "";
  let cmd: string[] | undefined;
  const substitute = (text: string) =>
    text.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a: string | undefined, b: string | undefined) => {
      const name = (a ?? b)!;
      return env[name] ?? vars[name] ?? "";
    });
  for (const line of stage.split("\n")) {
    const [instruction, ...rest] = line.trim().split(/\s+/);
    const text = rest.join(" ");
    if (instruction === "ARG") {
      const [name, fallback] = text.split("=") as [string, string | undefined];
      vars[name] = args[name] ?? fallback ?? "";
    } else if (instruction === "ENV") {
      for (const pair of rest) {
        const [key, ...value] = pair.split("=");
        env[key!] = substitute(value.join("="));
      }
    } else if (instruction === "WORKDIR") {
      workdir = path.posix.resolve(workdir || "/", substitute(text));
    } else if (instruction === "CMD") {
      cmd = JSON.parse(text) as string[];
    }
  }
  if (!cmd || !workdir) throw new Error("the Dockerfile's last stage needs an exec-form CMD and a WORKDIR");
  return { env, workdir, cmd };
}

export interface RunningService {
  name: string;
  child: ChildProcess;
  output: string[];
  exited: Promise<number | null>;
}

/** "3s", "500ms", "1m" → milliseconds (compose duration format). */
function duration(text: string | undefined, fallback: number): number {
  if (!text) return fallback;
  const match = /^(\d+)(ms|s|m)$/.exec(text);
  if (!match) throw new Error(`unsupported duration ${text}`);
  return Number(match[1]) * { ms: 1, s: 1000, m: 60_000 }[match[2] as "ms" | "s" | "m"];
}

export interface ComposeRunOptions {
  root: string;
  services: Record<string, ComposeService>;
  dockerfile: string;
  network: ComposeNetwork;
}

/** Starts services on demand, each after its `depends_on` conditions hold; `stop()` ends them all. */
export function composeRunner(options: ComposeRunOptions) {
  const { root, services, network } = options;
  const running = new Map<string, RunningService>();
  const healthy = new Map<string, Promise<void>>();
  const started = new Map<string, Promise<RunningService>>();
  let workDir: Promise<string> | undefined;
  // One folder for every engine's data; readable by the OS user postgres (the server runs as it).
  const scratch = () =>
    (workDir ??= mkdtemp(path.join(tmpdir(), "boxoffice-compose-")).then(async (dir) => {
      await chmod(dir, 0o755);
      return dir;
    }));
  // The image's PATH has node first (node:<version> images put it in /usr/local/bin): ours is this node.
  const PATH = [
    path.dirname(process.execPath),
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
  ].join(":");

  /** `/app/...` (the image's copy of the repository) → this working tree. */
  const local = (imagePath: string): string => {
    if (imagePath === "/app" || imagePath.startsWith("/app/")) return path.join(root, imagePath.slice(4));
    throw new Error(`no mapping for the image path ${imagePath}`);
  };
  /** Compose unescapes `$$` to `$`; the image's `/app` paths inside a shell string map like `local`. */
  const mapShell = (text: string) =>
    text.replaceAll("$$", "$").replace(/(^|[\s"'=])\/app(?=[/\s"']|$)/g, `$1${root}`);
  const environment = (name: string) =>
    Object.fromEntries(Object.entries(services[name]?.environment ?? {}).map(([k, v]) => [k, String(v)]));

  const spawnIn = (name: string, argv: string[], cwd: string, env: NodeJS.ProcessEnv): RunningService => {
    const child = spawn(network.exec(name)[0]!, [...network.exec(name).slice(1), ...argv], {
      cwd,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const output: string[] = [];
    const keep = (chunk: Buffer) => {
      output.push(chunk.toString());
      if (output.length > 500) output.shift();
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    const service = { name, child, output, exited };
    running.set(name, service);
    return service;
  };

  const fail = (service: RunningService, why: string) =>
    new Error(`${service.name} ${why}:\n${service.output.join("").split("\n").slice(-25).join("\n")}`);

  async function startPostgres(name: string): Promise<RunningService> {
    const env = environment(name);
    const dir = path.join(await scratch(), name);
    const [uid, gid] = await Promise.all([
      run("id", ["-u", "postgres"]).then((r) => Number(r.stdout)),
      run("id", ["-g", "postgres"]).then((r) => Number(r.stdout)),
    ]);
    await run("mkdir", ["-p", dir]);
    await chown(dir, uid, gid);
    const pwfile = path.join(dir, "pwfile");
    await writeFile(pwfile, env.POSTGRES_PASSWORD ?? "");
    await chown(pwfile, uid, gid);
    const bin = path.dirname(postgresBinary());
    const asPostgres = ["setpriv", `--reuid=${uid}`, `--regid=${gid}`, "--clear-groups"];
    const data = path.join(dir, "data");
    await run(asPostgres[0]!, [
      ...asPostgres.slice(1),
      path.join(bin, "initdb"),
      "-D",
      data,
      "-U",
      env.POSTGRES_USER ?? "postgres",
      `--pwfile=${pwfile}`,
      "--auth-host=scram-sha-256",
      "--auth-local=trust",
      "--encoding=UTF8",
      "--no-sync",
    ]);
    // What the image's docker-entrypoint.sh appends: password logins from any address.
    await writeFile(path.join(data, "pg_hba.conf"), "local all all trust\nhost all all all scram-sha-256\n");
    return spawnIn(
      name,
      // No socket file: /var/run/postgresql is shared with the host's own server.
      [
        ...asPostgres,
        path.join(bin, "postgres"),
        "-D",
        data,
        "-c",
        "listen_addresses=*",
        "-c",
        "unix_socket_directories=",
      ],
      dir,
      { PATH },
    );
  }

  async function startKafka(name: string): Promise<RunningService> {
    const env = environment(name);
    const dir = path.join(await scratch(), name);
    await run("mkdir", ["-p", dir]);
    const properties = Object.entries(env)
      .filter(([key]) => key.startsWith("KAFKA_"))
      .map(
        ([key, value]) =>
          `${key
            .slice("KAFKA_".length)
            .toLowerCase()
            .replaceAll("___", "-")
            .replaceAll("__", "\u0000")
            .replaceAll("_", ".")
            .replaceAll("\u0000", "_")}=${value}`,
      );
    // The image's default log.dirs is /tmp/kraft-combined-logs; a private folder here.
    if (!env.KAFKA_LOG_DIRS) properties.push(`log.dirs=${path.join(dir, "logs")}`);
    const file = path.join(dir, "server.properties");
    await writeFile(file, `${properties.join("\n")}\n`);
    const log4j = path.join(dir, "log4j2.yaml");
    await writeFile(
      log4j,
      'Configuration:\n  Appenders:\n    Console:\n      name: STDOUT\n      PatternLayout:\n        pattern: "[%d] %p %m (%c)%n"\n  Loggers:\n    Root:\n      level: WARN\n      AppenderRef:\n        - ref: STDOUT\n',
    );
    const classpath = await resolveKafkaClasspath(loadInfraEnv().INFRA_CACHE_DIR, () => undefined);
    // The image's default CLUSTER_ID when none is set (apache/kafka docker docs).
    const clusterId = env.CLUSTER_ID ?? "5L6g3nShT-eMCtK--X86sw";
    await run("java", [
      "-cp",
      classpath,
      `-Dlog4j2.configurationFile=${log4j}`,
      "kafka.tools.StorageTool",
      "format",
      "--ignore-formatted",
      "-t",
      clusterId,
      "-c",
      file,
    ]);
    return spawnIn(
      name,
      [
        "java",
        "-Xms512m",
        "-Xmx512m",
        `-Dlog4j2.configurationFile=${log4j}`,
        "-cp",
        classpath,
        "kafka.Kafka",
        file,
      ],
      dir,
      { PATH },
    );
  }

  function startBuilt(name: string): RunningService {
    const service = services[name]!;
    const image = imageConfig(options.dockerfile, service.build?.args ?? {});
    const command = service.command ?? image.cmd;
    const argv = typeof command === "string" ? ["sh", "-c", command] : command;
    const mapped = argv[0] === "sh" && argv[1] === "-c" ? [...argv.slice(0, 2), mapShell(argv[2]!)] : argv;
    return spawnIn(name, mapped, local(image.workdir), {
      PATH,
      HOME: "/root",
      HOSTNAME: name,
      ...image.env,
      ...environment(name),
    });
  }

  /** Runs the service's health check once; true when it passes. */
  async function check(name: string): Promise<boolean> {
    const env = environment(name);
    const test = services[name]?.healthcheck?.test ?? [];
    try {
      if (test.some((part) => part.includes("pg_isready"))) {
        const client = new pg.Client({
          host: network.address(name),
          port: 5432,
          user: env.POSTGRES_USER,
          password: env.POSTGRES_PASSWORD,
          database: "postgres",
          connectionTimeoutMillis: 2000,
        });
        await client.connect();
        await client.query("SELECT 1").finally(() => client.end());
        return true;
      }
      if (test.some((part) => part.includes("kafka-broker-api-versions.sh"))) {
        const bootstrap = /--bootstrap-server\s+(\S+)/.exec(test.join(" "))?.[1] ?? "";
        await run(
          network.exec(name)[0]!,
          [
            ...network.exec(name).slice(1),
            process.execPath,
            "--import",
            "tsx",
            path.join(root, "packages/platform/test/support/kafka-api-versions.ts"),
            "--bootstrap-server",
            bootstrap,
          ],
          { cwd: path.join(root, "packages/platform"), timeout: 30_000 },
        );
        return true;
      }
      if (test[0] !== "CMD") throw new Error(`${name}: unsupported health check ${test.join(" ")}`);
      await run(network.exec(name)[0]!, [...network.exec(name).slice(1), ...test.slice(1)], {
        env: { PATH },
        timeout: 10_000,
      });
      return true;
    } catch (error) {
      if ((error as Error).message.includes("unsupported health check")) throw error;
      return false;
    }
  }

  async function waitHealthy(name: string): Promise<void> {
    const service = await up(name);
    const healthcheck = services[name]?.healthcheck;
    if (!healthcheck) throw new Error(`${name} has no health check, but another service waits for it`);
    const interval = duration(healthcheck.interval, 30_000);
    const retries = healthcheck.retries ?? 3;
    for (let attempt = 0; attempt < retries; attempt += 1) {
      if (service.child.exitCode !== null) throw fail(service, `exited with ${service.child.exitCode}`);
      if (await check(name)) return;
      await sleep(interval);
    }
    throw fail(service, `not healthy after ${retries} checks`);
  }

  async function waitCompleted(name: string): Promise<void> {
    const service = await up(name);
    const code = await service.exited;
    if (code !== 0) throw fail(service, `exited with ${code}, not 0`);
  }

  /** Starts `name` once its dependencies' conditions hold (compose's `depends_on`). */
  function up(name: string): Promise<RunningService> {
    const existing = started.get(name);
    if (existing) return existing;
    const promise = (async () => {
      const service = services[name];
      if (!service) throw new Error(`no compose service named ${name}`);
      await Promise.all(
        Object.entries(service.depends_on ?? {}).map(([dependency, { condition }]) => {
          if (condition === "service_healthy") return healthy.get(dependency) ?? ready(dependency);
          if (condition === "service_completed_successfully") return waitCompleted(dependency);
          return up(dependency);
        }),
      );
      if (service.image?.startsWith("postgres:")) return startPostgres(name);
      if (service.image?.startsWith("apache/kafka:")) return startKafka(name);
      if (service.build) return startBuilt(name);
      throw new Error(`${name}: no way to run image ${service.image ?? "(none)"}`);
    })();
    started.set(name, promise);
    return promise;
  }

  /** Resolves when `name` and everything it depends on is up and its health check passes. */
  function ready(name: string): Promise<void> {
    const existing = healthy.get(name);
    if (existing) return existing;
    const promise = waitHealthy(name);
    healthy.set(name, promise);
    return promise;
  }

  async function stop(): Promise<void> {
    const order = (name: string) => (name === "gateway" ? 0 : services[name]?.build ? 1 : 2);
    for (const rank of [0, 1, 2]) {
      await Promise.all(
        [...running.values()]
          .filter((s) => order(s.name) === rank && s.child.exitCode === null && s.child.signalCode === null)
          .map(async (s) => {
            s.child.kill(s.name === "postgres" ? "SIGINT" : "SIGTERM");
            const timer = setTimeout(() => s.child.kill("SIGKILL"), 15_000);
            await s.exited;
            clearTimeout(timer);
          }),
      );
    }
    if (workDir) await rm(await workDir, { recursive: true, force: true });
  }

  return { ready, running, stop };
}
