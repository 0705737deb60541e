/**
 * The declaration's own rules, and its agreement with the event contracts (@boxoffice/events): every
 * aggregate a subgraph publishes or consumes has a topic, and every aggregate with a topic has exactly
 * one publisher in the topology.
 */
import { BOXOFFICE_EVENTS, BOXOFFICE_TOPICS } from "@boxoffice/events";
import { describe, expect, it } from "vitest";
import { parseTopology, TOPOLOGY, TopologyError, withSubgraph, type Topology } from "../src/index.ts";

const base: Topology = {
  gateway: { port: 4000 },
  subgraphs: [
    { name: "accounts", port: 4001, publishes: ["user"], consumes: [] },
    { name: "tickets", port: 4002, publishes: ["ticket"], consumes: ["user"] },
  ],
};

function problems(json: unknown): string[] {
  try {
    parseTopology(json);
    return [];
  } catch (error) {
    if (error instanceof TopologyError) return error.problems;
    throw error;
  }
}

describe("parseTopology", () => {
  it("accepts a valid declaration unchanged", () => {
    expect(parseTopology(base)).toEqual(base);
  });

  it("reports every problem at once: a taken port, a name twice, an aggregate with two owners, a bad name", () => {
    const found = problems({
      ...base,
      subgraphs: [
        ...base.subgraphs,
        { name: "tickets", port: 4000, publishes: ["user"], consumes: [] },
        { name: "Gift-Cards", port: 4010, publishes: [], consumes: [] },
      ],
    });
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/tickets is declared twice/),
        expect.stringMatching(/port 4000 is gateway's/),
        expect.stringMatching(/aggregate user is accounts'/),
        expect.stringMatching(/^subgraphs\.3\.name: lower-case letters/),
      ]),
    );
    expect(
      problems({ ...base, subgraphs: [{ name: "gateway", port: 4009, publishes: [], consumes: [] }] }),
    ).toEqual(["subgraphs.0.name: `gateway` is the gateway's name"]);
  });
});

describe("withSubgraph", () => {
  it("adds a subgraph on the port after the highest one, publishing and consuming nothing by default", () => {
    const { topology, added } = withSubgraph(base, { name: "reviews" });
    expect(added).toEqual({ name: "reviews", port: 4003, publishes: [], consumes: [] });
    expect(topology.subgraphs.map((s) => s.name)).toEqual(["accounts", "tickets", "reviews"]);
  });

  it("refuses a name that is taken", () => {
    expect(() => withSubgraph(base, { name: "tickets" })).toThrow(/tickets is declared twice/);
  });
});

describe("topology.json and the event contracts", () => {
  const aggregates = Object.keys(BOXOFFICE_TOPICS);

  it("every aggregate a subgraph publishes or consumes has a topic in @boxoffice/events", () => {
    const unknown = TOPOLOGY.subgraphs.flatMap((s) =>
      [...s.publishes, ...s.consumes].filter((a) => !aggregates.includes(a)).map((a) => `${s.name}: ${a}`),
    );
    expect(unknown, "aggregates without a topic").toEqual([]);
  });

  it("every aggregate of the contracts has a publisher, and nobody consumes what it publishes", () => {
    const published = TOPOLOGY.subgraphs.flatMap((s) => s.publishes);
    expect(
      [...new Set(BOXOFFICE_EVENTS.map((e) => e.aggregateType))].filter((a) => !published.includes(a)),
      "aggregates nobody publishes",
    ).toEqual([]);
    for (const s of TOPOLOGY.subgraphs) {
      expect(
        s.consumes.filter((a) => s.publishes.includes(a)),
        `${s.name} consumes its own events`,
      ).toEqual([]);
    }
  });
});
