import { appendFileSync } from "node:fs";
import type { ExportResult } from "@opentelemetry/core";
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace-base";
import type { SpanRecord } from "./spans.ts";

// Type-only imports above: this module is loaded even while tracing is off, the SDK is not.
type Core = typeof import("@opentelemetry/core");

/** One finished span as one JSON line (the `SpanRecord` shape `spans.ts` reads back). */
export function spanRecord(core: Core, span: ReadableSpan, service: string): SpanRecord {
  const { hrTimeToMilliseconds } = core;
  return {
    traceId: span.spanContext().traceId,
    spanId: span.spanContext().spanId,
    ...(span.parentSpanContext ? { parentSpanId: span.parentSpanContext.spanId } : {}),
    name: span.name,
    kind: span.kind,
    service,
    startMs: hrTimeToMilliseconds(span.startTime),
    endMs: hrTimeToMilliseconds(span.endTime),
    status: span.status.code,
    attributes: span.attributes,
    links: span.links.map((l) => ({ traceId: l.context.traceId, spanId: l.context.spanId })),
  };
}

/**
 * Appends spans to `file` as JSON lines, synchronously (one `write` per export, O_APPEND). For local
 * runs without a collector and for tests; OpenTelemetry JS has no file exporter of its own.
 */
export class JsonLinesSpanExporter implements SpanExporter {
  constructor(
    private readonly core: Core,
    private readonly file: string,
    private readonly service: string,
  ) {}

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    try {
      appendFileSync(
        this.file,
        spans.map((s) => `${JSON.stringify(spanRecord(this.core, s, this.service))}\n`).join(""),
      );
      done({ code: this.core.ExportResultCode.SUCCESS });
    } catch (error) {
      done({ code: this.core.ExportResultCode.FAILED, error: error as Error });
    }
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
