import { randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import {
  ApolloGateway,
  RemoteGraphQLDataSource,
  type GraphQLDataSourceProcessOptions,
} from "@apollo/gateway";
import { ApolloServer, type ApolloServerPlugin } from "@apollo/server";
import { ApolloServerPluginDrainHttpServer } from "@apollo/server/plugin/drainHttpServer";
import { ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import { ApolloServerPluginLandingPageLocalDefault } from "@apollo/server/plugin/landingPage/default";
import { expressMiddleware } from "@as-integrations/express5";
import {
  jsonErrorHandler,
  maskErrors,
  operationLogPlugin,
  REQUEST_ID_HEADER,
  type Logger,
} from "@boxoffice/service-kit";
import { httpTelemetry, injectTraceHeaders, metricsHandler } from "@boxoffice/telemetry";
import { ApolloArmor } from "@escape.tech/graphql-armor";
import cors from "cors";
import express from "express";
import { GraphQLError, type GraphQLFormattedError } from "graphql";
import { abusePlugins, sealedDataSource, type OperationBudget } from "./abuse.ts";
import { disableApolloTelemetry } from "./env.ts";
import { createSubgraphFetcher } from "./subgraph-fetcher.ts";

/** Per-request context at the gateway: the client's request and response, and the request id. */
export interface GatewayContext {
  req?: http.IncomingMessage;
  res?: express.Response;
  requestId: string;
}

/**
 * Request headers forwarded to every subgraph: the session (cookie for web, bearer for mobile),
 * and tracing/correlation ids (W3C Trace Context `traceparent`/`tracestate`).
 */
export const FORWARDED_HEADERS = ["cookie", "authorization", "traceparent", "tracestate"] as const;

/** Query limits enforced before execution (graphql-armor validation rules). */
export interface QueryLimits {
  /** Deepest selection nesting; introspection is exempt. Default 12. */
  maxDepth: number;
  /** Aliases per operation. Default 30. */
  maxAliases: number;
  /** Operation cost (objects × list sizes, see service-kit demand-control.ts). Default 5000. */
  maxCost: number;
  /** Directives per operation. Default 50. */
  maxDirectives: number;
}

export const DEFAULT_LIMITS: QueryLimits = { maxDepth: 12, maxAliases: 30, maxCost: 5000, maxDirectives: 50 };

export interface GatewayOptions {
  supergraphSdl: string;
  /** Longest wait for one subgraph response, ms (default 10 000); then a typed SERVICE_UNAVAILABLE. */
  subgraphTimeoutMs?: number;
  port: number;
  host?: string;
  /** Exact browser origins allowed with credentials; `*` is refused. */
  corsOrigins: string[];
  /** Production: no Sandbox landing page, no field suggestions in errors. */
  production: boolean;
  logger: Logger;
  /** Subgraph name → URL, replacing the URL recorded in the supergraph. */
  urlOverrides?: Record<string, string>;
  limits?: Partial<QueryLimits>;
  /** GATEWAY_SHARED_SECRET, sent to every subgraph (sealed subgraphs); unset in development. */
  gatewaySecret?: string | undefined;
  /**
   * How many reverse proxies in front of the gateway to trust for `X-Forwarded-For` (Express
   * `trust proxy` hop count). Default 0: the client's address is the socket's peer.
   */
  trustedProxies?: number;
  /** The operation budget per client (see abuse.ts); default 20 000 cost per 60 s, in memory. */
  budget?: Partial<OperationBudget>;
}

export interface RunningGateway {
  url: string;
  port: number;
  stop: () => Promise<void>;
}

type FormatError = (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;

/** Network errors of a request that never reached the subgraph: safe to retry, whatever it was. */
const NOT_SENT = new Set([
  "ECONNREFUSED",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "UND_ERR_CONNECT_TIMEOUT",
]);
/** Network errors of a request the subgraph may have received: its outcome is unknown. */
const CUT_OFF = new Set(["ECONNRESET", "EPIPE", "UND_ERR_SOCKET", "UND_ERR_CLOSED"]);

/**
 * How a failed subgraph fetch failed, from the network error code behind it: @apollo/gateway reports
 * undici's `TypeError: fetch failed` (as the GraphQLError's `originalError`) whose `cause` carries it.
 */
function networkFailure(error: unknown): "not-sent" | "cut-off" | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current && typeof current === "object"; depth += 1) {
    const { code } = current as { code?: unknown };
    if (typeof code === "string" && NOT_SENT.has(code)) return "not-sent";
    if (typeof code === "string" && CUT_OFF.has(code)) return "cut-off";
    const next = current as { originalError?: unknown; cause?: unknown };
    current = next.originalError ?? next.cause;
  }
  return undefined;
}

/**
 * The gateway's `formatError`: a subgraph that refused the whole operation (HTTP 401/403/503, as
 * auth-verify's context does) reaches the gateway as `"401: Unauthorized"` with the subgraph's URL
 * and body under `extensions.response`. Clients get the subgraph's own message, code and `reason`
 * instead, and never internal details (`response`, `serviceName`); then the usual masking applies.
 * A subgraph that could not be reached (connection refused, unknown host) is `SERVICE_UNAVAILABLE`
 * with `retryable: true`: nothing ran, try again. One that timed out or dropped the connection
 * mid-request is `SERVICE_UNAVAILABLE` with `retryable: false, outcomeUnknown: true`: it may have done
 * the work. The address stays in the gateway's log (`onUnavailable`), never in the answer.
 */
export function gatewayFormatError(
  mask: FormatError,
  onUnavailable: (message: string) => void = () => undefined,
): FormatError {
  return (formatted, error) => {
    const { response, serviceName: _serviceName, ...extensions } = formatted.extensions ?? {};
    let cleaned: GraphQLFormattedError = { ...formatted, extensions };
    const inner = (response as { body?: { errors?: GraphQLFormattedError[] } } | undefined)?.body
      ?.errors?.[0];
    const failure = /aborted due to timeout/i.test(formatted.message) ? "cut-off" : networkFailure(error);
    if (failure === "not-sent") {
      onUnavailable(formatted.message);
      cleaned = {
        message: "A service is unavailable right now; try again.",
        ...(formatted.path ? { path: formatted.path } : {}),
        extensions: { code: "SERVICE_UNAVAILABLE", retryable: true },
      };
    } else if (failure === "cut-off") {
      // The subgraph may have done the work: a mutation is safe to repeat only when it is idempotent
      // (payForOrder with the same idempotencyKey); otherwise read the state first.
      onUnavailable(formatted.message);
      cleaned = {
        message:
          "A service did not finish answering; what it did is unknown. Queries can be retried; check before repeating a mutation.",
        ...(formatted.path ? { path: formatted.path } : {}),
        extensions: { code: "SERVICE_UNAVAILABLE", retryable: false, outcomeUnknown: true },
      };
    } else if (inner && /^\d{3}: /.test(formatted.message)) {
      const { code, reason } = inner.extensions ?? {};
      cleaned = {
        message: inner.message,
        ...(formatted.path ? { path: formatted.path } : {}),
        extensions: { ...extensions, ...(code ? { code } : {}), ...(reason ? { reason } : {}) },
      };
    }
    return mask(cleaned, error);
  };
}

/**
 * Apollo Server hands a request whose `operationName` matches no operation in the document to the
 * gateway, whose query planner then throws a plain Error (HTTP 500). It is the client's mistake:
 * answer 400 with OPERATION_RESOLUTION_FAILURE, as a non-gateway Apollo Server does.
 */
function unknownOperationPlugin(): ApolloServerPlugin<GatewayContext> {
  return {
    requestDidStart: () =>
      Promise.resolve({
        didResolveOperation: ({ operation, request }) => {
          if (!operation) {
            const name = request.operationName ? `"${request.operationName}"` : "(none)";
            throw new GraphQLError(`Unknown operation named ${name}.`, {
              extensions: { code: "OPERATION_RESOLUTION_FAILURE", http: { status: 400 } },
            });
          }
          return Promise.resolve();
        },
      }),
  };
}

/**
 * When a whole operation failed because the credentials were refused (no data or only null root
 * fields, every error UNAUTHENTICATED with auth-verify's `reason`, i.e. a present but invalid
 * token — not a resolver's "sign in required", which stays HTTP 200 like other field errors), answer HTTP 401 as a subgraph would, so mobile clients can react to the status.
 */
function unauthenticatedStatusPlugin(): ApolloServerPlugin<GatewayContext> {
  return {
    requestDidStart: () =>
      Promise.resolve({
        willSendResponse: ({ response }) => {
          if (response.body.kind !== "single" || !response.http) return Promise.resolve();
          const { data, errors } = response.body.singleResult;
          const nothing = !data || Object.values(data).every((v) => v === null);
          const refused = (e: GraphQLFormattedError) =>
            e.extensions?.code === "UNAUTHENTICATED" && typeof e.extensions.reason === "string";
          if (nothing && errors?.length && errors.every(refused)) {
            response.http.status = 401;
          }
          return Promise.resolve();
        },
      }),
  };
}

function isClientContext(context: unknown): context is GatewayContext {
  return (
    typeof context === "object" &&
    context !== null &&
    typeof (context as GatewayContext).requestId === "string"
  );
}

/**
 * Talks to one subgraph: forwards the session and trace headers (with tracing on, the `traceparent`
 * of the gateway's own fetch span replaces the client's, so the subgraph's spans hang under it),
 * and copies every `Set-Cookie`
 * of the subgraph's response to the client's response unchanged. The fetcher answers with a
 * `Headers` whose `getSetCookie()` returns each cookie separately; joining them (as
 * `get("set-cookie")` does) is ambiguous since `Expires=Wed, 21 Oct …` contains a comma (RFC 6265
 * §3 allows several Set-Cookie fields and forbids folding them).
 */
export class SubgraphDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>): void {
    const headers = request.http?.headers;
    if (!headers) return;
    // Health checks and schema loading run without a client request (and without our context).
    if (!isClientContext(context)) return;
    headers.set(REQUEST_ID_HEADER, context.requestId);
    const incoming = context.req;
    if (!incoming) return;
    for (const name of FORWARDED_HEADERS) {
      const value = incoming.headers[name];
      if (typeof value === "string") headers.set(name, value);
    }
    injectTraceHeaders((name, value) => headers.set(name, value));
  }

  override didReceiveResponse: RemoteGraphQLDataSource<GatewayContext>["didReceiveResponse"] = ({
    response,
    context,
  }) => {
    const res = isClientContext(context) ? context.res : undefined;
    const headers = response.http?.headers as unknown as { getSetCookie?: () => string[] } | undefined;
    if (res && typeof headers?.getSetCookie === "function") {
      for (const cookie of headers.getSetCookie()) res.appendHeader("Set-Cookie", cookie);
    }
    return response;
  };
}

/**
 * Starts the gateway: `@apollo/gateway` over a static supergraph SDL, Apollo Server 5 on Express 5
 * at `/graphql`, CORS with credentials for an allowlist, CSRF prevention, query limits, masked
 * errors (typed subgraph codes such as UNAUTHENTICATED survive), and the Apollo Sandbox landing
 * page (with cookies) outside production. It sends nothing to Apollo (`disableApolloTelemetry`).
 *
 * @throws Error when `corsOrigins` contains `*`, or the supergraph is invalid, or the port is taken.
 */
export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  if (options.corsOrigins.includes("*")) {
    throw new Error(
      "GATEWAY_CORS_ORIGINS must list exact origins: `*` cannot be combined with credentials (Fetch standard, CORS protocol).",
    );
  }
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const { logger } = options;
  const SealedSubgraphDataSource = sealedDataSource(SubgraphDataSource, options.gatewaySecret);
  disableApolloTelemetry();
  // A stalled subgraph must not hold the client's request (and a gateway socket) forever.
  const subgraphs = createSubgraphFetcher({
    timeoutMs: options.subgraphTimeoutMs ?? 10_000,
    // A deduplicated fetch carries the first request's id and trace context.
    ignoredForDeduplication: [REQUEST_ID_HEADER, "traceparent", "tracestate"],
  });
  const gateway = new ApolloGateway({
    supergraphSdl: options.supergraphSdl,
    logger,
    buildService: ({ name, url }) =>
      new SealedSubgraphDataSource({ url: options.urlOverrides?.[name] ?? url, fetcher: subgraphs.fetcher }),
  });
  const armor = new ApolloArmor({
    maxDepth: { n: limits.maxDepth, ignoreIntrospection: true },
    // graphql-armor allow-lists `__typename` aliases by default; 5,000 of them still cost a response.
    maxAliases: { n: limits.maxAliases, allowList: [] },
    // Its cost limit counts only literal page sizes; abuse.ts's cost plugin replaces it.
    costLimit: { enabled: false },
    maxDirectives: { n: limits.maxDirectives },
    // Its token limit throws while parsing and answers HTTP 500; the 100 kB body cap bounds
    // parsing work instead, and depth/alias/cost limits bound execution.
    maxTokens: { enabled: false },
    blockFieldSuggestion: { enabled: options.production },
  }).protect();
  // graphql-armor is CommonJS, so its plugin type names @apollo/server's CJS declarations; the
  // objects are the same at run time (dual package), only the declaration files differ.
  const armorPlugins = armor.plugins as unknown as ApolloServerPlugin<GatewayContext>[];
  const abuse = await abusePlugins({
    supergraphSdl: options.supergraphSdl,
    maxCost: limits.maxCost,
    budget: { points: 20_000, windowSeconds: 60, ...options.budget },
    logger,
  });

  const app = express();
  app.disable("x-powered-by");
  // req.ip: the socket's peer, or the X-Forwarded-For entry added by the last trusted proxy.
  app.set("trust proxy", options.trustedProxies ?? 0);
  const httpServer = http.createServer(app);
  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    logger,
    csrfPrevention: true,
    includeStacktraceInErrorResponses: false,
    formatError: gatewayFormatError(maskErrors(logger), (message) =>
      logger.warn({ err: message }, "subgraph unavailable"),
    ),
    validationRules: armor.validationRules,
    allowBatchedHttpRequests: false,
    plugins: [
      ...armorPlugins,
      ...abuse.plugins,
      unauthenticatedStatusPlugin(),
      unknownOperationPlugin(),
      ApolloServerPluginDrainHttpServer({ httpServer }),
      operationLogPlugin<GatewayContext>(logger),
      options.production
        ? ApolloServerPluginLandingPageDisabled()
        : ApolloServerPluginLandingPageLocalDefault({ embed: { runTelemetry: false }, includeCookies: true }),
    ],
  });
  // A start that fails from here on (Apollo's start, the port taken) closes what it opened: the
  // rate-limit pool and the subgraph connections, so an in-process caller is not left holding them.
  const closeAfterFailedStart = async () => {
    await apollo.stop().catch(() => undefined);
    await abuse.stop().catch(() => undefined);
    await subgraphs.close().catch(() => undefined);
  };
  try {
    await apollo.start();
  } catch (error) {
    await closeAfterFailedStart();
    throw error;
  }

  app.use(httpTelemetry());
  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok", service: "gateway" });
  });
  app.get("/metrics", metricsHandler);
  app.use(
    "/graphql",
    cors<cors.CorsRequest>({ origin: options.corsOrigins, credentials: true }),
    express.json({ limit: "100kb" }),
    expressMiddleware(apollo, {
      context: ({ req, res }) => {
        const incoming = req.header(REQUEST_ID_HEADER);
        const requestId = incoming && /^[A-Za-z0-9._:-]{1,128}$/.test(incoming) ? incoming : randomUUID();
        res.setHeader(REQUEST_ID_HEADER, requestId);
        return Promise.resolve({ req, res, requestId });
      },
    }),
  );
  app.use(jsonErrorHandler(logger));

  try {
    await new Promise<void>((resolve, reject) => {
      httpServer.once("error", reject);
      httpServer.listen(options.port, options.host ?? "127.0.0.1", () => resolve());
    });
  } catch (error) {
    await closeAfterFailedStart();
    throw error;
  }
  const port = (httpServer.address() as AddressInfo).port;
  const host = options.host && options.host !== "0.0.0.0" ? options.host : "127.0.0.1";
  const url = `http://${host}:${port}/graphql`;
  logger.info({ url, sandbox: !options.production }, "gateway ready");
  return {
    url,
    port,
    stop: async () => {
      await apollo.stop();
      await abuse.stop();
      await subgraphs.close();
    },
  };
}
