/**
 * The README's architecture diagram, its port ranges and its topic table describe the topology: each is
 * checked against topology.json (and the event contracts for which event belongs to which aggregate),
 * so a subgraph added, renumbered or given new events fails here naming the README line to write.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { BOXOFFICE_EVENTS, BOXOFFICE_TOPICS } from "@boxoffice/events";
import { describe, expect, it } from "vitest";
import { TOPOLOGY } from "../src/index.ts";

const README = readFileSync(path.resolve(import.meta.dirname, "../../../README.md"), "utf8");
const names = TOPOLOGY.subgraphs.map((s) => s.name);
const aggregateOf = new Map<string, string>(BOXOFFICE_EVENTS.map((e) => [e.type, e.aggregateType]));

/** The subgraph names a table cell mentions as whole words outside `code` (consumer group names). */
function mentioned(cell: string): string[] {
  const prose = cell.replace(/`[^`]*`/g, "");
  return names.filter((name) => new RegExp(`\\b${name}\\b`).test(prose));
}

describe("README.md against the topology", () => {
  it("the architecture diagram shows the gateway and every subgraph on its port", () => {
    const nodes = [
      `gateway :${TOPOLOGY.gateway.port}`,
      ...TOPOLOGY.subgraphs.map((s) => `${s.name} :${s.port}`),
    ];
    expect(
      nodes.filter((node) => !README.includes(`[${node}`)),
      "missing from the mermaid diagram",
    ).toEqual([]);
  });

  it("every port range it quotes (from the gateway's or a subgraph's port) ends at the last subgraph's", () => {
    const ports = TOPOLOGY.subgraphs.map((s) => s.port);
    const last = Math.max(...ports);
    const expected = [`${Math.min(...ports)}–${last}`, `${TOPOLOGY.gateway.port}–${last}`];
    const quoted = [...README.matchAll(/\b(\d{4,5})–(\d{4,5})\b/g)]
      .filter((m) => [TOPOLOGY.gateway.port, ...ports].includes(Number(m[1])))
      .map((m) => m[0]);
    expect(quoted.length).toBeGreaterThan(0);
    expect(
      quoted.filter((r) => !expected.includes(r)),
      `port ranges other than ${expected.join(" or ")}`,
    ).toEqual([]);
  });

  it("the topic table names each aggregate's publisher and exactly its consumers", () => {
    const rows = README.split("\n")
      .filter((line) => /^\| `boxoffice\.[a-z.-]+\.v1` \|/.test(line))
      .map((line) => line.split("|").map((cell) => cell.trim()));
    const problems: string[] = [];
    const documented = new Set<string>();
    for (const [, topic = "", events = "", publishedBy = "", consumedBy = ""] of rows) {
      for (const type of [...events.matchAll(/`([a-z.-]+)`/g)].map((m) => m[1]!)) {
        const aggregate = aggregateOf.get(type);
        if (!aggregate) {
          problems.push(`${type}: not an event of the contracts`);
          continue;
        }
        documented.add(aggregate);
        const expectedTopic = `\`${BOXOFFICE_TOPICS[aggregate as keyof typeof BOXOFFICE_TOPICS]}\``;
        if (topic !== expectedTopic) problems.push(`${type}: topic ${topic}, not ${expectedTopic}`);
        const publishers = TOPOLOGY.subgraphs
          .filter((s) => s.publishes.includes(aggregate))
          .map((s) => s.name);
        const consumers = TOPOLOGY.subgraphs.filter((s) => s.consumes.includes(aggregate)).map((s) => s.name);
        if (mentioned(publishedBy).join() !== publishers.join()) {
          problems.push(`${type}: published by "${publishedBy}", declared ${publishers.join(", ")}`);
        }
        const shown = mentioned(consumedBy);
        const missing = consumers.filter((c) => !shown.includes(c));
        const extra = shown.filter((c) => !consumers.includes(c));
        if (missing.length) problems.push(`${type}: consumers missing from the table: ${missing.join(", ")}`);
        if (extra.length)
          problems.push(`${type}: consumers the topology does not declare: ${extra.join(", ")}`);
      }
    }
    const declared = TOPOLOGY.subgraphs.flatMap((s) => s.publishes);
    for (const aggregate of declared.filter((a) => !documented.has(a))) {
      problems.push(`aggregate ${aggregate}: no row in the topic table`);
    }
    expect(problems).toEqual([]);
  });
});
