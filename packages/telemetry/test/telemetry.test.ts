import { execFile } from "node:child_process";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { formatTree, readSpans, traceTree, type SpanRecord } from "../src/spans.ts";

const run = promisify(execFile);
const dir = await mkdtemp(path.join(tmpdir(), "telemetry-test-"));
afterAll(() => rm(dir, { recursive: true, force: true }));

/**
 * Runs a fresh Node process (tracing state is per process) that starts telemetry as a service's
 * `main` does, makes a parent span and a child span with a traceparent round trip as the outbox and
 * relay do, and reports which OpenTelemetry SDK modules it loaded.
 */
async function child(env: Record<string, string>) {
  const script = `
    import { createRequire } from "node:module";
    import { contextOf, currentTraceparent, inSpan, startTelemetry, shutdownTelemetry, tracingEnabled, SpanKind } from "./src/index.ts";
    const on = startTelemetry("probe");
    let stored;
    await inSpan("request", { kind: SpanKind.SERVER }, async () => { stored = currentTraceparent(); });
    await inSpan("later", { kind: SpanKind.CONSUMER, parent: contextOf(stored) }, async () => {});
    await shutdownTelemetry();
    const loaded = Object.keys(createRequire(import.meta.url).cache).filter((k) => k.includes("@opentelemetry/sdk-trace-base"));
    process.stdout.write(JSON.stringify({ on, enabled: tracingEnabled(), stored: stored ?? null, sdkLoaded: loaded.length > 0 }));
  `;
  const { stdout } = await run(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    cwd: path.resolve(import.meta.dirname, ".."),
    env: { PATH: process.env.PATH, ...env },
  });
  return JSON.parse(stdout) as { on: boolean; stored: string | null; sdkLoaded: boolean };
}

describe("startTelemetry", () => {
  it("without an exporter configured, tracing is off and no SDK module is loaded", async () => {
    const result = await child({});
    expect(result).toMatchObject({ on: false, stored: null, sdkLoaded: false });
  });

  it("with TELEMETRY_TRACES_DIR, spans land in the directory and a stored traceparent continues the trace", async () => {
    const result = await child({ TELEMETRY_TRACES_DIR: dir });
    expect(result.on).toBe(true);
    expect(result.sdkLoaded).toBe(true);
    expect(result.stored).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect((await readdir(dir)).filter((f) => f.startsWith("probe-"))).toHaveLength(1);
    const spans = await readSpans(dir);
    const traceId = result.stored!.split("-")[1]!;
    const [root, ...others] = traceTree(spans, traceId);
    expect(others).toEqual([]);
    expect(root).toMatchObject({ name: "request", service: "probe", kind: 1 });
    expect(root!.children.map((c) => c.name)).toEqual(["later"]);
  });
});

describe("formatTree", () => {
  it("prints one line per span, indented under its parent, in start order", () => {
    const span = (spanId: string, name: string, startMs: number, parentSpanId?: string): SpanRecord => ({
      traceId: "t",
      spanId,
      ...(parentSpanId ? { parentSpanId } : {}),
      name,
      kind: 0,
      service: name.split(" ")[0]!,
      startMs,
      endMs: startMs + 2,
      status: 0,
      attributes: {},
      links: [],
    });
    const spans = [
      span("c", "orders process", 30, "b"),
      span("a", "gateway POST", 0),
      span("b", "payments POST", 10, "a"),
      span("d", "payments prisma", 12, "b"),
      span("x", "other", 5),
    ].map((s) => (s.spanId === "x" ? { ...s, traceId: "other" } : s));
    expect(formatTree(traceTree(spans, "t"))).toBe(
      [
        "[gateway] gateway POST  2.0 ms  (+0.0 ms)",
        "  [payments] payments POST  2.0 ms  (+10.0 ms)",
        "    [payments] payments prisma  2.0 ms  (+12.0 ms)",
        "    [orders] orders process  2.0 ms  (+30.0 ms)",
      ].join("\n"),
    );
  });
});
