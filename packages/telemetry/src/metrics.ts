/**
 * Every Prometheus metric a Boxoffice process exposes on `/metrics`, declared once (prom-client).
 * Names and units follow the Prometheus naming guide (https://prometheus.io/docs/practices/naming/):
 * base units (seconds), `_total` for counters. Label values are bounded: operation names come from
 * our own clients' documents, routes from a fixed list, groups/topics/partitions from configuration.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

/** The registry `/metrics` serves (one per process). */
export const registry = new Registry();

let processMetrics = false;
/** Adds prom-client's process metrics (CPU, memory, event-loop lag, GC), once. */
export function collectProcessMetrics(): void {
  if (processMetrics) return;
  processMetrics = true;
  collectDefaultMetrics({ register: registry });
}

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export const httpRequestDuration = new Histogram({
  name: "http_server_request_duration_seconds",
  help: "HTTP requests served, by method, route and status code (seconds from request to response end).",
  labelNames: ["method", "route", "status_code"] as const,
  buckets: LATENCY_BUCKETS,
  registers: [registry],
});

export const graphqlOperationDuration = new Histogram({
  name: "graphql_operation_duration_seconds",
  help: "GraphQL operations executed, by operation name and type (seconds from request start to response).",
  labelNames: ["operation_name", "operation_type"] as const,
  buckets: LATENCY_BUCKETS,
  registers: [registry],
});

export const graphqlErrors = new Counter({
  name: "graphql_errors_total",
  help: "Errors in GraphQL responses, by operation name and error code (extensions.code).",
  labelNames: ["operation_name", "code"] as const,
  registers: [registry],
});

export const rateLimitRefusals = new Counter({
  name: "boxoffice_rate_limit_refusals_total",
  help: "Operations refused with RATE_LIMITED, by operation name.",
  labelNames: ["operation_name"] as const,
  registers: [registry],
});

export const relayPublished = new Counter({
  name: "boxoffice_relay_published_total",
  help: "Outbox rows the relay published to Kafka (acknowledged), by service schema.",
  labelNames: ["schema"] as const,
  registers: [registry],
});

export const relayFailures = new Counter({
  name: "boxoffice_relay_failed_batches_total",
  help: "Relay batches that failed (Kafka or PostgreSQL error; retried with backoff), by service schema.",
  labelNames: ["schema"] as const,
  registers: [registry],
});

export const consumerMessages = new Counter({
  name: "boxoffice_consumer_messages_total",
  help:
    "Messages a consumer group settled, by outcome: applied, duplicate (inbox hit: already applied, skipped), " +
    "dead-lettered, skipped-unhandled, skipped-unknown-type, skipped-other-group.",
  labelNames: ["group", "topic", "outcome"] as const,
  registers: [registry],
});

export const signingKeysRefreshed = new Gauge({
  name: "boxoffice_signing_keys_refreshed_timestamp_seconds",
  help: "When this process last reloaded its signing-key replica (Unix seconds); key freshness = time() - this.",
  registers: [registry],
});

export const signingKeysPublished = new Gauge({
  name: "boxoffice_signing_keys_published",
  help: "Published (verifying) signing keys in this process's replica.",
  registers: [registry],
});

/** What the relay reports at scrape time. */
export interface OutboxProbe {
  schema: string;
  /** Unpublished rows and the age of the oldest, seconds (0 when none). */
  read: () => Promise<{ backlog: number; oldestAgeSeconds: number }>;
}

/** What a consumer reports at scrape time (its `status().lag`). */
export interface ConsumerProbe {
  group: string;
  read: () => { ms: number; partitions: Record<string, { events: number; ms: number }> };
}

const outboxProbes = new Set<OutboxProbe>();
const consumerProbes = new Set<ConsumerProbe>();

/** Reports `probe` on every scrape until the returned function is called (relay stop). */
export function watchOutbox(probe: OutboxProbe): () => void {
  outboxProbes.add(probe);
  return () => outboxProbes.delete(probe);
}

/** Reports `probe` on every scrape until the returned function is called (consumer stop). */
export function watchConsumer(probe: ConsumerProbe): () => void {
  consumerProbes.add(probe);
  return () => consumerProbes.delete(probe);
}

const outboxBacklog = new Gauge({
  name: "boxoffice_outbox_backlog_events",
  help: "Outbox rows not yet published to Kafka, by service schema (read at scrape time).",
  labelNames: ["schema"] as const,
  registers: [registry],
});

const outboxOldestAge = new Gauge({
  name: "boxoffice_outbox_oldest_unpublished_age_seconds",
  help: "Age of the oldest unpublished outbox row, by service schema (0 when the outbox is drained).",
  labelNames: ["schema"] as const,
  registers: [registry],
});

const consumerLag = new Gauge({
  name: "boxoffice_consumer_lag_events",
  help: "Messages behind the partition's high watermark, by consumer group, topic and partition.",
  labelNames: ["group", "topic", "partition"] as const,
  registers: [registry],
});

const consumerLagSeconds = new Gauge({
  name: "boxoffice_consumer_lag_seconds",
  help: "Age of the oldest message not yet settled, by consumer group, topic and partition (0 when caught up).",
  labelNames: ["group", "topic", "partition"] as const,
  registers: [registry],
});

const readModelStaleness = new Gauge({
  name: "boxoffice_read_model_staleness_seconds",
  help:
    "How far a consumer group's read model trails its topics: age of the oldest event it has not applied " +
    "yet (0 when caught up).",
  labelNames: ["group"] as const,
  registers: [registry],
});

/** Refreshes the scrape-time gauges from the live relays and consumers. */
async function readProbes(): Promise<void> {
  outboxBacklog.reset();
  outboxOldestAge.reset();
  consumerLag.reset();
  consumerLagSeconds.reset();
  readModelStaleness.reset();
  await Promise.all(
    [...outboxProbes].map(async (probe) => {
      try {
        const { backlog, oldestAgeSeconds } = await probe.read();
        outboxBacklog.set({ schema: probe.schema }, backlog);
        outboxOldestAge.set({ schema: probe.schema }, oldestAgeSeconds);
      } catch {
        // The database is away: the series disappears for this scrape (Prometheus marks it stale).
      }
    }),
  );
  for (const probe of consumerProbes) {
    const lag = probe.read();
    readModelStaleness.set({ group: probe.group }, lag.ms / 1000);
    for (const [key, value] of Object.entries(lag.partitions)) {
      const slash = key.lastIndexOf("/");
      const labels = { group: probe.group, topic: key.slice(0, slash), partition: key.slice(slash + 1) };
      consumerLag.set(labels, value.events);
      consumerLagSeconds.set(labels, value.ms / 1000);
    }
  }
}

/** The Prometheus text exposition of every metric of this process. */
export async function metricsText(): Promise<string> {
  await readProbes();
  return registry.metrics();
}

/** `GET /metrics` (Prometheus text format 0.0.4) for any Node HTTP framework. */
export function metricsHandler(_req: IncomingMessage, res: ServerResponse): void {
  metricsText().then(
    (text) => {
      res.setHeader("Content-Type", registry.contentType);
      res.end(text);
    },
    () => {
      res.statusCode = 500;
      res.end("metrics unavailable\n");
    },
  );
}
