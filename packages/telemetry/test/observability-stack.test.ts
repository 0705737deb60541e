/**
 * docker-compose.observability.yml and deploy/observability/ checked statically (no Docker engine
 * here): what the services are told is what this package reads, Prometheus scrapes every deployable
 * where it serves /metrics, traces reach Jaeger, and every dashboard query names metrics that exist.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { telemetryEnvSchema } from "../src/env.ts";
import { registry } from "../src/metrics.ts";

const ROOT = path.resolve(import.meta.dirname, "../../..");
const read = (file: string) => readFileSync(path.join(ROOT, file), "utf8");

interface Compose {
  services: Record<string, { environment?: Record<string, unknown>; volumes?: string[]; build?: unknown }>;
}
const base = parse(read("docker-compose.yml"), { merge: true }) as Compose;
const overlay = parse(read("docker-compose.observability.yml"), { merge: true }) as Compose;
const deployables = Object.entries(base.services)
  .filter(([name, s]) => s.build && name !== "migrate")
  .map(([name, s]) => ({ name, port: Number(s.environment?.[`${name.toUpperCase()}_PORT`]) }));

describe("docker-compose.observability.yml", () => {
  it("points every deployable at the collector, with variables this package reads", () => {
    // The topology (packages/topology/topology.json) names them; read as a file, so a subgraph added
    // by `pnpm new:subgraph` is expected here without editing this test.
    const topology = JSON.parse(read("packages/topology/topology.json")) as {
      subgraphs: Array<{ name: string }>;
    };
    expect(deployables.map((d) => d.name).sort()).toEqual(
      ["gateway", ...topology.subgraphs.map((s) => s.name)].sort(),
    );
    const known = Object.keys(telemetryEnvSchema.shape);
    for (const { name } of deployables) {
      const environment = overlay.services[name]?.environment ?? {};
      expect(
        Object.keys(environment).filter((k) => !known.includes(k)),
        name,
      ).toEqual([]);
      expect(telemetryEnvSchema.parse(environment).OTEL_EXPORTER_OTLP_ENDPOINT).toBe(
        "http://otel-collector:4318",
      );
    }
  });

  it("mounts configuration files that exist", () => {
    for (const service of Object.values(overlay.services)) {
      for (const volume of service.volumes ?? []) {
        const source = volume.split(":")[0]!;
        expect(() => readFileSync(path.join(ROOT, source)), source).not.toThrow(/ENOENT/);
      }
    }
  });

  it("sends traces from the collector's OTLP receiver to Jaeger", () => {
    const collector = parse(read("deploy/observability/otel-collector.yaml")) as {
      receivers: { otlp: { protocols: { http: { endpoint: string } } } };
      exporters: Record<string, { endpoint: string }>;
      service: { pipelines: { traces: { receivers: string[]; exporters: string[] } } };
    };
    expect(collector.receivers.otlp.protocols.http.endpoint).toBe("0.0.0.0:4318");
    const traces = collector.service.pipelines.traces;
    expect(traces.receivers).toEqual(["otlp"]);
    expect(traces.exporters.map((e) => collector.exporters[e]?.endpoint)).toEqual(["jaeger:4317"]);
    expect(Object.keys(overlay.services)).toEqual(
      expect.arrayContaining(["otel-collector", "jaeger", "prometheus", "grafana"]),
    );
  });

  it("Prometheus scrapes /metrics of every deployable on the port it serves", () => {
    const prometheus = parse(read("deploy/observability/prometheus.yml")) as {
      scrape_configs: Array<{ metrics_path: string; static_configs: Array<{ targets: string[] }> }>;
    };
    const [job] = prometheus.scrape_configs;
    expect(job?.metrics_path).toBe("/metrics");
    expect(job?.static_configs.flatMap((c) => c.targets).sort()).toEqual(
      deployables.map((d) => `${d.name}:${d.port}`).sort(),
    );
  });
});

describe("the Grafana dashboard", () => {
  it("queries only metrics this package declares, and covers the event path", async () => {
    const dashboard = JSON.parse(read("deploy/observability/grafana/dashboards/event-path.json")) as {
      panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
    };
    const declared = (await registry.getMetricsAsJSON()).map((m) => m.name);
    const names = dashboard.panels.flatMap((p) =>
      p.targets.flatMap((t) =>
        [...t.expr.matchAll(/\b((?:boxoffice|graphql|http)_[a-z_]+)/g)].map((m) => m[1]!),
      ),
    );
    const base = (name: string) => name.replace(/_(bucket|count|sum)$/, "");
    expect(names.filter((n) => !declared.includes(base(n)))).toEqual([]);
    for (const metric of [
      "boxoffice_outbox_backlog_events",
      "boxoffice_consumer_lag_events",
      "boxoffice_read_model_staleness_seconds",
      "boxoffice_consumer_messages_total",
      "graphql_errors_total",
    ]) {
      expect(names).toContain(metric);
    }
  });
});
