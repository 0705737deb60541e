/**
 * Issue 13 "see a request all the way through": with every process writing its spans to a directory
 * (TELEMETRY_TRACES_DIR, the file exporter), one payForOrder through the gateway is one trace that
 * reaches every service it affects, in causal order; and each process's /metrics shows the event
 * path draining (outbox backlog and consumer lag back to 0) and a poison message dead-lettered.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  readSpans,
  traceIdWhere,
  traceTree,
  type SpanNode,
  type SpanRecord,
} from "@boxoffice/telemetry/spans";
import { Kafka, logLevel } from "kafkajs";
import { afterAll, describe, expect, it } from "vitest";
import { eventually, usePlatform } from "./support/client.ts";

const tracesDir = await mkdtemp(path.join(tmpdir(), "boxoffice-traces-"));
// Registered before usePlatform's, so it runs after the platform stopped (vitest runs after-hooks
// last registered first): removed while the processes still wrote spans, it failed with ENOTEMPTY.
afterAll(() => rm(tracesDir, { recursive: true, force: true }));
// payments logs at info so its operation line (with trace_id) is kept.
const world = usePlatform({
  env: { TELEMETRY_TRACES_DIR: tracesDir },
  processEnv: { payments: { LOG_LEVEL: "info" } },
});

const SPAN_KIND = { server: 1, producer: 3, consumer: 4 } as const;

/** Every span of the tree, depth first. */
function flatten(nodes: SpanNode[]): SpanNode[] {
  return nodes.flatMap((n) => [n, ...flatten(n.children)]);
}

/** The ancestors of `span` in `trace`, nearest first. */
function ancestors(span: SpanRecord, byId: Map<string, SpanRecord>): SpanRecord[] {
  const chain: SpanRecord[] = [];
  for (
    let p = span.parentSpanId && byId.get(span.parentSpanId);
    p;
    p = p.parentSpanId && byId.get(p.parentSpanId)
  ) {
    chain.push(p);
  }
  return chain;
}

/** Prometheus text → samples, e.g. `{ name, labels: { schema: "orders" }, value: 0 }`. */
function parseMetrics(text: string): Array<{ name: string; labels: Record<string, string>; value: number }> {
  return text
    .split("\n")
    .filter((line) => line && !line.startsWith("#"))
    .map((line) => {
      const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!match) throw new Error(`unparsable metrics line: ${line}`);
      const labels = Object.fromEntries(
        [...(match[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((m) => [
          m[1]!,
          m[2]!,
        ]),
      );
      return { name: match[1]!, labels, value: Number(match[3]) };
    });
}

async function metricsOf(url: string) {
  const res = await fetch(url);
  expect(res.headers.get("content-type")).toContain("text/plain");
  return parseMetrics(await res.text());
}

const metricsUrl = (service: string) =>
  service === "gateway"
    ? world.platform.gatewayUrl.replace(/\/graphql$/, "/metrics")
    : world.platform.subgraphUrl(service).replace(/\/graphql$/, "/metrics");

/** Lists a ticket, orders it and pays for it; resolves the payment's response and x-request-id. */
async function buyTicket(label: string) {
  const { client } = world;
  const seller = await client.newUser(`${label}-seller`);
  const buyer = await client.newUser(`${label}-buyer`);
  const ticketId = await client.listTicket(seller, `Observability ${label}`);
  const order = await client.createOrder(ticketId, buyer);
  const orderId = (order.body.data?.createOrder as { id: string }).id;
  const paid = await client.pay(orderId, "tok_success", `key-${label}-${orderId}`, buyer);
  expect(paid.body.errors).toBeUndefined();
  expect((paid.body.data?.payForOrder as { status: string }).status).toBe("SUCCEEDED");
  return { orderId, ticketId, buyer, requestId: paid.res.headers.get("x-request-id")! };
}

describe("tracing", () => {
  it("one payForOrder through the gateway is one trace: gateway → payments → relay → orders → tickets and storefront, in causal order", async () => {
    const { requestId, orderId, buyer } = await buyTicket("trace");
    expect(
      await eventually(
        () => world.client.orderStatus(orderId, buyer),
        (s) => s === "COMPLETED",
      ),
    ).toBe("COMPLETED");

    // Spans reach the files as each one ends, a parent after its children: wait until the storefront
    // and tickets applied the completed order (the last hops of the chain) and every span's parent
    // is there too. The trace goes on past those hops (orders applies tickets' ticket.updated), and a
    // read between a child's export and its parent's showed the children as roots of their own
    // (fresh-clone run 19: three orders spans).
    const has = (spans: SpanRecord[], traceId: string | undefined, service: string, topicPart: string) =>
      spans.some(
        (s) =>
          s.traceId === traceId &&
          s.service === service &&
          s.kind === SPAN_KIND.consumer &&
          String(s.attributes["messaging.destination.name"]).includes(topicPart),
      );
    const spans = await eventually(
      () => readSpans(tracesDir),
      (all) => {
        const traceId = traceIdWhere(all, "boxoffice.request_id", requestId);
        return (
          has(all, traceId, "tickets", "orders") &&
          has(all, traceId, "storefront", "orders") &&
          traceTree(all, traceId!).length === 1
        );
      },
      30_000,
    );
    const traceId = traceIdWhere(spans, "boxoffice.request_id", requestId);
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);

    const roots = traceTree(spans, traceId!);
    // One trace, one root: the gateway's request.
    expect(roots.map((r) => `${r.service} ${r.kind}`)).toEqual([`gateway ${SPAN_KIND.server}`]);
    const inTrace = flatten(roots);
    expect(new Set(inTrace.map((s) => s.service))).toEqual(
      new Set(["gateway", "payments", "orders", "tickets", "storefront"]),
    );

    const byId = new Map<string, SpanRecord>(inTrace.map((s) => [s.spanId, s]));
    const find = (description: string, match: (s: SpanRecord) => boolean): SpanRecord => {
      const found = inTrace.filter(match).sort((a, b) => a.startMs - b.startMs)[0];
      if (!found)
        throw new Error(
          `no span for ${description} in\n${inTrace.map((s) => `${s.service} ${s.name}`).join("\n")}`,
        );
      return found;
    };
    const topic = (s: SpanRecord) => String(s.attributes["messaging.destination.name"]);
    const gateway = roots[0]!;
    const payments = find(
      "payments' payForOrder",
      (s) => s.service === "payments" && s.kind === SPAN_KIND.server,
    );
    const paymentsRelay = find(
      "the payments relay sending payment.succeeded",
      (s) =>
        s.service === "payments" &&
        s.kind === SPAN_KIND.producer &&
        s.attributes["boxoffice.event_type"] === "payment.succeeded",
    );
    const ordersConsumer = find(
      "orders applying payment.succeeded",
      (s) => s.service === "orders" && s.kind === SPAN_KIND.consumer && topic(s).includes("payments"),
    );
    const ordersRelay = find(
      "the orders relay sending order.completed",
      (s) =>
        s.service === "orders" &&
        s.kind === SPAN_KIND.producer &&
        s.attributes["boxoffice.event_type"] === "order.completed",
    );
    const tickets = find(
      "tickets applying order.completed",
      (s) => s.service === "tickets" && s.kind === SPAN_KIND.consumer && topic(s).includes("orders"),
    );
    const storefront = find(
      "storefront applying an order event",
      (s) =>
        s.service === "storefront" &&
        s.kind === SPAN_KIND.consumer &&
        topic(s).includes("orders") &&
        ancestors(s, byId).includes(ordersRelay),
    );
    expect(paymentsRelay.attributes["boxoffice.component"]).toBe("relay");

    // Causal order: each hop descends from the previous one, and starts after it.
    const chain = [gateway, payments, paymentsRelay, ordersConsumer, ordersRelay];
    for (const [earlier, later] of [
      ...chain.slice(1).map((s, i) => [chain[i]!, s] as const),
      [ordersRelay, tickets] as const,
      [ordersRelay, storefront] as const,
    ]) {
      expect(
        ancestors(later, byId),
        `${later.service} ${later.name} descends from ${earlier.service} ${earlier.name}`,
      ).toContain(earlier);
      expect(later.startMs).toBeGreaterThanOrEqual(earlier.startMs);
    }
    // The database work of payForOrder is in the trace too (@prisma/instrumentation).
    expect(
      inTrace.some(
        (s) =>
          s.service === "payments" && s.name.startsWith("prisma:") && ancestors(s, byId).includes(payments),
      ),
    ).toBe(true);
    // The relay's batch span is linked to the trace it carried.
    expect(
      spans.some((s) => s.name === "outbox relay batch" && s.links.some((l) => l.traceId === traceId)),
    ).toBe(true);

    // A log line leads to its trace.
    const paymentsLog = world.platform.processes
      .find((p) => p.name === "payments")!
      .output.join("")
      .split("\n")
      .filter((line) => line.includes(`"trace_id":"${traceId}"`));
    expect(paymentsLog.length).toBeGreaterThan(0);
  });
});

describe("metrics", () => {
  it("under a small load /metrics shows operations, the outbox and the consumers draining back to 0, and a poison message dead-lettered", async () => {
    await Promise.all([1, 2, 3].map((i) => buyTicket(`load${i}`)));

    const gateway = await metricsOf(metricsUrl("gateway"));
    const pays = gateway.find(
      (m) =>
        m.name === "graphql_operation_duration_seconds_count" &&
        m.labels.operation_type === "mutation" &&
        m.value >= 3,
    );
    expect(pays).toBeDefined();
    expect(
      gateway.some(
        (m) => m.name === "http_server_request_duration_seconds_count" && m.labels.route === "/graphql",
      ),
    ).toBe(true);

    // The event path drains: backlog 0, lag 0, on every subgraph that relays or consumes.
    for (const service of ["payments", "orders", "tickets", "storefront"]) {
      const drained = await eventually(
        () => metricsOf(metricsUrl(service)),
        (samples) =>
          samples
            .filter((m) =>
              ["boxoffice_outbox_backlog_events", "boxoffice_consumer_lag_events"].includes(m.name),
            )
            .every((m) => m.value === 0) && samples.some((m) => m.name === "boxoffice_consumer_lag_events"),
        30_000,
      );
      const lag = drained.filter((m) => m.name === "boxoffice_consumer_lag_events");
      expect(lag.length, `${service} reports lag per group and partition`).toBeGreaterThan(0);
      expect(lag.every((m) => m.value === 0)).toBe(true);
      if (service !== "storefront") {
        expect(drained.find((m) => m.name === "boxoffice_outbox_backlog_events")?.value).toBe(0);
        expect(drained.find((m) => m.name === "boxoffice_outbox_oldest_unpublished_age_seconds")?.value).toBe(
          0,
        );
        expect(drained.find((m) => m.name === "boxoffice_relay_published_total")?.value).toBeGreaterThan(0);
      }
      expect(drained.some((m) => m.name === "boxoffice_read_model_staleness_seconds")).toBe(true);
      expect(drained.find((m) => m.name === "boxoffice_signing_keys_published")?.value).toBeGreaterThan(0);
    }
    const orders = await metricsOf(metricsUrl("orders"));
    expect(
      orders.find(
        (m) =>
          m.name === "boxoffice_consumer_messages_total" &&
          m.labels.group?.endsWith("orders.payments") &&
          m.labels.outcome === "applied",
      )?.value,
    ).toBeGreaterThanOrEqual(4);

    // A poison message on the payments topic: orders' payments consumer dead-letters it and counts it.
    const namespace = world.platform.serviceEnv("orders").KAFKA_NAMESPACE!;
    const kafka = new Kafka({
      clientId: "observability-test",
      brokers: world.platform.serviceEnv("orders").KAFKA_BROKERS!.split(","),
      logLevel: logLevel.NOTHING,
    });
    const producer = kafka.producer();
    await producer.connect();
    try {
      await producer.send({
        topic: `${namespace}.boxoffice.payments.v1`,
        messages: [{ key: "poison", value: JSON.stringify({ not: "an event" }) }],
      });
    } finally {
      await producer.disconnect();
    }
    const deadLettered = (samples: Awaited<ReturnType<typeof metricsOf>>) =>
      samples.find(
        (m) =>
          m.name === "boxoffice_consumer_messages_total" &&
          m.labels.group === `${namespace}.orders.payments` &&
          m.labels.outcome === "dead-lettered",
      )?.value ?? 0;
    expect(deadLettered(orders)).toBe(0);
    const after = await eventually(
      () => metricsOf(metricsUrl("orders")),
      (s) => deadLettered(s) > 0,
    );
    expect(deadLettered(after)).toBe(1);
    // The partition moved on past it.
    const settled = await eventually(
      () => metricsOf(metricsUrl("orders")),
      (s) => s.filter((m) => m.name === "boxoffice_consumer_lag_events").every((m) => m.value === 0),
    );
    expect(
      settled.filter((m) => m.name === "boxoffice_consumer_lag_events").every((m) => m.value === 0),
    ).toBe(true);
  });
});
