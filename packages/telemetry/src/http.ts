import type { IncomingMessage, ServerResponse } from "node:http";
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { httpRequestDuration } from "./metrics.ts";
import { tracer, tracingEnabled } from "./tracing.ts";

/** Routes reported by name; anything else is `other` (bounded label values). */
const ROUTES = ["/graphql", "/healthz", "/readyz", "/metrics", "/.well-known/jwks.json"];

function routeOf(url: string | undefined): string {
  const path = (url ?? "/").split("?")[0] ?? "/";
  return ROUTES.includes(path) ? path : "other";
}

/**
 * Express-style middleware, mounted first: times every request into
 * `http_server_request_duration_seconds` and, with tracing on, runs the rest of the request inside a
 * SERVER span whose parent is the caller's W3C `traceparent` (so a subgraph's spans join the
 * gateway's trace). The request and response emitters are bound to the span's context: body parsing
 * runs in socket callbacks that would otherwise lose it.
 */
export function httpTelemetry(): (req: IncomingMessage, res: ServerResponse, next: () => void) => void {
  return (req, res, next) => {
    const started = performance.now();
    const route = routeOf(req.url);
    if (!tracingEnabled()) {
      res.once("finish", () => {
        httpRequestDuration.observe(
          { method: req.method ?? "GET", route, status_code: String(res.statusCode) },
          (performance.now() - started) / 1000,
        );
      });
      next();
      return;
    }
    const parent = propagation.extract(ROOT_CONTEXT, req.headers);
    const span = tracer().startSpan(
      `${req.method ?? "GET"} ${route}`,
      {
        kind: SpanKind.SERVER,
        attributes: { "http.request.method": req.method ?? "GET", "http.route": route, "url.path": route },
      },
      parent,
    );
    const active = trace.setSpan(parent, span);
    res.once("finish", () => {
      httpRequestDuration.observe(
        { method: req.method ?? "GET", route, status_code: String(res.statusCode) },
        (performance.now() - started) / 1000,
      );
      span.setAttribute("http.response.status_code", res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    context.bind(active, req);
    context.bind(active, res);
    context.with(active, next);
  };
}
