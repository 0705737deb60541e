import { randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { ApolloServer, type ApolloServerPlugin, type BaseContext } from "@apollo/server";
import { ApolloServerPluginDrainHttpServer } from "@apollo/server/plugin/drainHttpServer";
import { ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import { expressMiddleware } from "@as-integrations/express5";
import { httpTelemetry, metricsHandler, shutdownTelemetry } from "@boxoffice/telemetry";
import express, { type Express, type Request, type Response } from "express";
import type { GraphQLSchema } from "graphql";
import type { Logger } from "pino";
import { maskErrors } from "./errors.ts";
import { jsonErrorHandler } from "./http-errors.ts";
import { operationLogPlugin } from "./operation-log.ts";
import { clientAddressOf, gatewayOnly, subgraphLimits, type QueryLimits } from "./subgraph-guard.ts";

/** Header that carries one id through gateway and subgraphs (also echoed in responses). */
export const REQUEST_ID_HEADER = "x-request-id";
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** What every resolver context has, whatever the service adds. */
export interface RequestScope {
  requestId: string;
  /** Child logger with `requestId` bound. */
  log: Logger;
  /**
   * The client's IP address: as the gateway reported it when the request carries the gateway's secret,
   * else the socket's peer (see subgraph-guard.ts). For per-client rate limits.
   */
  clientAddress: string;
}

/**
 * What a readiness check answers: `true` ready; `false` not ready (`/readyz` answers 503);
 * `"degraded"` serving but not complete, e.g. a consumer still joining its group while its replica is
 * slightly stale (`/readyz` answers 200 and lists it under `degraded`).
 */
export type ReadinessResult = boolean | "degraded";

/** A dependency `/readyz` checks (a check that throws counts as not ready). */
export interface ReadinessCheck {
  name: string;
  check: () => ReadinessResult | Promise<ReadinessResult>;
}

/** A step of graceful shutdown, run in the given order after HTTP stops accepting requests. */
export interface ShutdownStep {
  name: string;
  run: () => Promise<void>;
}

export interface ServiceOptions<TContext extends BaseContext> {
  /** Service name, e.g. `accounts`; used in logs. */
  name: string;
  port: number;
  /** Default 127.0.0.1; containers set 0.0.0.0. */
  host?: string;
  schema: GraphQLSchema;
  logger: Logger;
  /** Builds the per-request GraphQL context (auth, DataLoaders); gets the request scope. */
  context: (args: { req: Request; res: Response; scope: RequestScope }) => Promise<TContext>;
  readiness?: ReadinessCheck[];
  /** The deadline of the whole shutdown is `stopOnSignals`' `deadlineMs`. */
  shutdown?: ShutdownStep[];
  /** Extra HTTP routes mounted before `/graphql` (e.g. the JWKS document). */
  routes?: (app: Express) => void;
  plugins?: ApolloServerPlugin<TContext>[];
  /**
   * The gateway's shared secret (GATEWAY_SHARED_SECRET): when set, `/graphql` answers only requests
   * carrying it (403 FORBIDDEN otherwise). Unset in development: open to anyone.
   */
  gatewaySecret?: string | undefined;
  /** Depth, alias, directive and cost limits applied by this subgraph itself (defaults as the gateway's). */
  limits?: Partial<QueryLimits>;
}

export interface RunningService {
  /** `http://host:port/graphql`. */
  url: string;
  port: number;
  httpServer: http.Server;
  /** Graceful stop: HTTP first, then each shutdown step in order, within the deadline. */
  stop: () => Promise<void>;
}

/**
 * Starts an Apollo Server subgraph on Express 5 with `/healthz` (alive: 200 while the process
 * serves HTTP), `/readyz` (200 when no readiness check answers not ready, else 503; the body is
 * `{ status, notReady: [names], degraded: [names] }`) and `/metrics` (Prometheus text format: this
 * process's metrics, see `@boxoffice/telemetry`). Every request is timed and, with tracing on,
 * traced. Errors are masked (`maskErrors`), stack traces are never sent, the landing page
 * is off (developers use Sandbox on the gateway), JSON bodies are capped at 100 kB.
 *
 * @throws when the port cannot be bound (the caller's `runMain` exits 1).
 */
export async function startService<TContext extends BaseContext>(
  options: ServiceOptions<TContext>,
): Promise<RunningService> {
  const { logger } = options;
  const app = express();
  app.disable("x-powered-by");
  const httpServer = http.createServer(app);
  const limits = subgraphLimits<TContext>(options.schema, options.limits);
  const apollo = new ApolloServer<TContext>({
    schema: options.schema,
    logger,
    includeStacktraceInErrorResponses: false,
    formatError: maskErrors(logger),
    validationRules: limits.validationRules,
    plugins: [
      ...limits.plugins,
      ApolloServerPluginDrainHttpServer({ httpServer }),
      ApolloServerPluginLandingPageDisabled(),
      operationLogPlugin<TContext>(logger),
      ...(options.plugins ?? []),
    ],
  });
  await apollo.start();

  app.use(httpTelemetry());
  app.use((req, res, next) => {
    const incoming = req.header(REQUEST_ID_HEADER);
    const requestId = incoming && SAFE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    res.locals.scope = { requestId, log: logger.child({ requestId }) } satisfies Omit<
      RequestScope,
      "clientAddress"
    >;
    res.setHeader(REQUEST_ID_HEADER, requestId);
    next();
  });
  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok", service: options.name });
  });
  app.get("/readyz", async (_req, res) => {
    const results = await Promise.all(
      (options.readiness ?? []).map(async (c): Promise<{ name: string; ready: ReadinessResult }> => {
        try {
          return { name: c.name, ready: await c.check() };
        } catch {
          return { name: c.name, ready: false };
        }
      }),
    );
    const notReady = results.filter((r) => r.ready === false).map((r) => r.name);
    const degraded = results.filter((r) => r.ready === "degraded").map((r) => r.name);
    res
      .status(notReady.length ? 503 : 200)
      .json({ status: notReady.length ? "not ready" : "ready", notReady, degraded });
  });
  app.get("/metrics", metricsHandler);
  options.routes?.(app);
  app.use(
    "/graphql",
    gatewayOnly(options.gatewaySecret),
    express.json({ limit: "100kb" }),
    expressMiddleware(apollo, {
      context: async ({ req, res }) =>
        options.context({
          req,
          res,
          scope: { ...(res.locals.scope as RequestScope), clientAddress: clientAddressOf(req, res) },
        }),
    }),
  );
  app.use(jsonErrorHandler(logger));

  await new Promise<void>((resolve, reject) => {
    httpServer.once("error", reject);
    httpServer.listen(options.port, options.host ?? "127.0.0.1", () => {
      httpServer.off("error", reject);
      resolve();
    });
  });
  const port = (httpServer.address() as AddressInfo).port;
  const url = `http://${options.host && options.host !== "0.0.0.0" ? options.host : "127.0.0.1"}:${port}/graphql`;
  logger.info({ url }, `${options.name} subgraph ready`);

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      logger.info("shutting down: stop accepting HTTP");
      await apollo.stop(); // drains in-flight requests and closes the HTTP server
      for (const step of options.shutdown ?? []) {
        logger.info(`shutting down: ${step.name}`);
        await step.run();
      }
      logger.info("shutdown complete");
    })();
    return stopping;
  };
  return { url, port, httpServer, stop };
}

/**
 * Stops `service` on SIGTERM or SIGINT within `deadlineMs` (default 15 s), flushes telemetry (spans
 * still buffered for export) and exits: 0 after a clean shutdown, 1 when a step failed or the
 * deadline passed (an orchestrator then knows the drain was cut short).
 */
export function stopOnSignals(
  service: Pick<RunningService, "stop">,
  logger: Logger,
  deadlineMs = 15_000,
): void {
  const onSignal = (signal: NodeJS.Signals) => {
    logger.info({ signal }, "signal received");
    const timer = setTimeout(() => {
      logger.error({ deadlineMs }, "shutdown deadline passed; exiting");
      process.exit(1);
    }, deadlineMs);
    timer.unref();
    service.stop().then(
      () => shutdownTelemetry().then(() => process.exit(0)),
      (error: unknown) => {
        logger.error({ err: error }, "shutdown failed");
        return shutdownTelemetry().then(() => process.exit(1));
      },
    );
  };
  process.once("SIGTERM", onSignal);
  process.once("SIGINT", onSignal);
  // Started by a local runner with an IPC channel (the platform's start command): when that parent
  // goes away, even by SIGKILL, the channel closes — stop too instead of living on as an orphan.
  if (process.send) process.once("disconnect", () => onSignal("SIGHUP"));
}

/**
 * Runs a service's `main` and exits non-zero on any start-up failure (CONVENTIONS.md: never keep a
 * half-alive process).
 */
export function runMain(main: () => Promise<unknown>, logger?: Logger): void {
  main().catch((error: unknown) => {
    if (logger) logger.fatal({ err: error }, "start-up failed");
    else process.stderr.write(`start-up failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
