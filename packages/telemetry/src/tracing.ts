/**
 * Tracing helpers for library code, written against `@opentelemetry/api` only (a no-op facade until
 * `startTelemetry` registers an SDK). While tracing is off every helper returns at once, so the hot
 * paths (requests, relay batches, consumed messages) pay one boolean check.
 */
import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
  type Tracer,
} from "@opentelemetry/api";

export { SpanKind, type Span } from "@opentelemetry/api";

const state = { enabled: false };

/** True once `startTelemetry` registered an SDK in this process. */
export function tracingEnabled(): boolean {
  return state.enabled;
}

/** For `startTelemetry` (and its shutdown) only. */
export function setTracingEnabled(enabled: boolean): void {
  state.enabled = enabled;
}

/** The tracer every Boxoffice span is made with. */
export function tracer(): Tracer {
  return trace.getTracer("boxoffice");
}

/**
 * The W3C `traceparent` of the active span (https://www.w3.org/TR/trace-context/#traceparent-header),
 * or undefined when tracing is off or no span is active. The outbox stores it with each event.
 */
export function currentTraceparent(): string | undefined {
  if (!state.enabled) return undefined;
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent;
}

/** The remote context a `traceparent` names (root context when absent or malformed). */
export function contextOf(traceparent: string | undefined): Context {
  if (!traceparent) return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, { traceparent });
}

/** A span link to the trace a `traceparent` names, or undefined when it names none. */
export function linkTo(traceparent: string | undefined): Link | undefined {
  const spanContext = trace.getSpanContext(contextOf(traceparent));
  return spanContext ? { context: spanContext } : undefined;
}

/** The `traceparent` of `span` (to put in a Kafka message header). */
export function traceparentOf(span: Span): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(trace.setSpan(ROOT_CONTEXT, span), carrier);
  return carrier.traceparent;
}

/**
 * Writes the active context's trace headers (`traceparent`, `tracestate`) through `set`; a no-op
 * while tracing is off (then whatever the caller forwarded stays).
 */
export function injectTraceHeaders(set: (name: string, value: string) => void): void {
  if (!state.enabled) return;
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  for (const [name, value] of Object.entries(carrier)) set(name, value);
}

export interface SpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
  links?: Link[];
  /** Parent context; default the active one. */
  parent?: Context;
}

/**
 * Runs `fn` inside a new active span that ends when `fn` settles (an exception is recorded and the
 * span marked ERROR, then rethrown). With tracing off, runs `fn(undefined)` and nothing else.
 */
export async function inSpan<T>(
  name: string,
  options: SpanOptions,
  fn: (span: Span | undefined) => Promise<T>,
): Promise<T> {
  if (!state.enabled) return fn(undefined);
  const parent = options.parent ?? context.active();
  const span = tracer().startSpan(
    name,
    {
      kind: options.kind ?? SpanKind.INTERNAL,
      ...(options.attributes ? { attributes: options.attributes } : {}),
      ...(options.links ? { links: options.links } : {}),
    },
    parent,
  );
  try {
    return await context.with(trace.setSpan(parent, span), () => fn(span));
  } catch (error) {
    failSpan(span, error);
    throw error;
  } finally {
    span.end();
  }
}

/** Records `error` on `span` and marks it ERROR (OpenTelemetry "Recording errors"). */
export function failSpan(span: Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : String(error));
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: error instanceof Error ? error.message : String(error),
  });
}

/** `{ trace_id, span_id }` of the active span for log lines (pino `mixin`), `{}` when none. */
export function traceLogFields(): { trace_id?: string; span_id?: string } {
  if (!state.enabled) return {};
  const spanContext = trace.getActiveSpan()?.spanContext();
  if (!spanContext) return {};
  return { trace_id: spanContext.traceId, span_id: spanContext.spanId };
}
