/**
 * Starts this process's telemetry, once. Tracing loads the OpenTelemetry SDK only when an exporter is
 * configured (`OTEL_EXPORTER_OTLP_ENDPOINT`, `TELEMETRY_TRACES_DIR`): otherwise no SDK module is even
 * required, the API stays a no-op and `tracingEnabled()` is false. The SDK is required synchronously
 * (CommonJS builds) so that `createLogger`, the first thing a `main` runs, can start it before any
 * relay or consumer exists.
 *
 * What is instrumented, and how: our own spans around the HTTP server, GraphQL operations, the outbox
 * relay and the consumers (this package's helpers, called by service-kit and events), Apollo
 * Gateway's built-in spans (it uses `@opentelemetry/api`), and Prisma's queries and transactions
 * through `@prisma/instrumentation` (it hooks the client through a global, so enabling it late
 * works). Hook-based instrumentations (http, pg, kafkajs, graphql) patch modules as `require` loads
 * them; our services are ES modules run from TypeScript, which those hooks do not see without a
 * loader flag on every process, so the spans they would give are written here instead.
 */
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import type { SpanProcessor } from "@opentelemetry/sdk-trace-base";
import { telemetryEnv, type TelemetryEnv } from "./env.ts";
import { JsonLinesSpanExporter } from "./file-exporter.ts";
import { collectProcessMetrics } from "./metrics.ts";
import { setTracingEnabled } from "./tracing.ts";

const require = createRequire(import.meta.url);

let started: { service: string; shutdown: () => Promise<void> } | undefined;
let tracingOn = false;

/**
 * Starts telemetry for `service` (the OpenTelemetry `service.name`): process metrics always, tracing
 * when `env` configures an exporter (OTLP over HTTP, and/or span files). Idempotent: later calls are
 * ignored, whatever their arguments.
 *
 * @returns whether tracing is on.
 * @throws ZodError when `OTEL_EXPORTER_OTLP_ENDPOINT` is not a URL.
 */
export function startTelemetry(service: string, env: TelemetryEnv = telemetryEnv()): boolean {
  if (started) return tracingOn;
  collectProcessMetrics();
  if (!env.OTEL_EXPORTER_OTLP_ENDPOINT && !env.TELEMETRY_TRACES_DIR) {
    started = { service, shutdown: () => Promise.resolve() };
    return false;
  }
  const api = require("@opentelemetry/api") as typeof import("@opentelemetry/api");
  const base = require("@opentelemetry/sdk-trace-base") as typeof import("@opentelemetry/sdk-trace-base");
  const { AsyncLocalStorageContextManager } =
    require("@opentelemetry/context-async-hooks") as typeof import("@opentelemetry/context-async-hooks");
  const core = require("@opentelemetry/core") as typeof import("@opentelemetry/core");
  const { resourceFromAttributes } =
    require("@opentelemetry/resources") as typeof import("@opentelemetry/resources");
  const { PrismaInstrumentation, registerInstrumentations } =
    require("@prisma/instrumentation") as typeof import("@prisma/instrumentation");

  const processors: SpanProcessor[] = [];
  if (env.OTEL_EXPORTER_OTLP_ENDPOINT) {
    const { OTLPTraceExporter } =
      require("@opentelemetry/exporter-trace-otlp-http") as typeof import("@opentelemetry/exporter-trace-otlp-http");
    const url = `${env.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/$/, "")}/v1/traces`;
    processors.push(new base.BatchSpanProcessor(new OTLPTraceExporter({ url })));
  }
  if (env.TELEMETRY_TRACES_DIR) {
    mkdirSync(env.TELEMETRY_TRACES_DIR, { recursive: true });
    const file = path.join(env.TELEMETRY_TRACES_DIR, `${service}-${process.pid}.jsonl`);
    // Simple (not batched): each span is on disk when it ends, so a test or `boxoffice-trace` run
    // right after a request sees it.
    processors.push(new base.SimpleSpanProcessor(new JsonLinesSpanExporter(core, file, service)));
  }
  const provider = new base.BasicTracerProvider({
    resource: resourceFromAttributes({ "service.name": service }),
    spanProcessors: processors,
  });
  api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  api.propagation.setGlobalPropagator(new core.W3CTraceContextPropagator());
  api.trace.setGlobalTracerProvider(provider);
  registerInstrumentations({ tracerProvider: provider, instrumentations: [new PrismaInstrumentation()] });
  tracingOn = true;
  setTracingEnabled(true);
  started = {
    service,
    shutdown: async () => {
      setTracingEnabled(false);
      await provider.shutdown();
    },
  };
  return true;
}

/**
 * Flushes and stops tracing (the last shutdown step, CONVENTIONS.md "Start, run, stop"). Spans
 * still buffered for OTLP are sent within the exporter's timeout. Never throws.
 */
export async function shutdownTelemetry(): Promise<void> {
  await started?.shutdown().catch(() => undefined);
}
