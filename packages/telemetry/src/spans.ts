/**
 * Reads the span files `TELEMETRY_TRACES_DIR` collects (one JSON line per span, a file per process)
 * and prints a trace as a tree: what `boxoffice-trace` and the e2e tests use.
 */
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";

/** One span as written by the file exporter. Times are ms since the epoch. */
export interface SpanRecord {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  /** OpenTelemetry SpanKind: 0 internal, 1 server, 2 client, 3 producer, 4 consumer. */
  kind: number;
  /** `service.name` of the process that recorded it. */
  service: string;
  startMs: number;
  endMs: number;
  /** 0 unset, 1 ok, 2 error. */
  status: number;
  attributes: Record<string, unknown>;
  links: Array<{ traceId: string; spanId: string }>;
}

/** Every span in `dir`'s `*.jsonl` files (a torn last line of a running process is skipped). */
export async function readSpans(dir: string): Promise<SpanRecord[]> {
  const files = (await readdir(dir).catch(() => [])).filter((f) => f.endsWith(".jsonl"));
  const spans: SpanRecord[] = [];
  for (const file of files) {
    for (const line of (await readFile(path.join(dir, file), "utf8")).split("\n")) {
      if (!line.trim()) continue;
      try {
        spans.push(JSON.parse(line) as SpanRecord);
      } catch {
        // a line being written
      }
    }
  }
  return spans;
}

/** The trace id of the span carrying `attribute = value` (e.g. `boxoffice.request_id`), if any. */
export function traceIdWhere(spans: SpanRecord[], attribute: string, value: unknown): string | undefined {
  return spans.find((s) => s.attributes[attribute] === value)?.traceId;
}

/** A span with its children, ordered by start time. */
export interface SpanNode extends SpanRecord {
  children: SpanNode[];
}

/**
 * The spans of trace `traceId` as trees: roots are spans whose parent is not in the trace (normally
 * one: the gateway's request).
 */
export function traceTree(spans: SpanRecord[], traceId: string): SpanNode[] {
  const nodes = new Map<string, SpanNode>();
  for (const span of spans) if (span.traceId === traceId) nodes.set(span.spanId, { ...span, children: [] });
  const roots: SpanNode[] = [];
  for (const node of nodes.values()) {
    const parent = node.parentSpanId ? nodes.get(node.parentSpanId) : undefined;
    if (parent) parent.children.push(node);
    else roots.push(node);
  }
  const sort = (list: SpanNode[]) => {
    list.sort((a, b) => a.startMs - b.startMs);
    for (const n of list) sort(n.children);
  };
  sort(roots);
  return roots;
}

/**
 * The tree as text, one span a line: `service  name  duration  +offset from the trace start`, indented
 * by depth.
 */
export function formatTree(roots: SpanNode[]): string {
  const start = Math.min(...roots.map((r) => r.startMs));
  const lines: string[] = [];
  const walk = (node: SpanNode, depth: number) => {
    const offset = (node.startMs - start).toFixed(1);
    const duration = (node.endMs - node.startMs).toFixed(1);
    const error = node.status === 2 ? "  ERROR" : "";
    lines.push(
      `${"  ".repeat(depth)}[${node.service}] ${node.name}  ${duration} ms  (+${offset} ms)${error}`,
    );
    for (const child of node.children) walk(child, depth + 1);
  };
  for (const root of roots) walk(root, 0);
  return lines.join("\n");
}
