/**
 * The cost model of demand-control.ts on a subgraph schema built the way every subgraph builds it
 * (`buildSubgraphSchema`, `@listSize` from the federation v2.9 spec), and the schema check that every
 * list field of the composed supergraph has a size.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { buildSubgraphSchema } from "@apollo/subgraph";
import { SUBGRAPH_NAMES } from "@boxoffice/topology";
import { parse } from "graphql";
import { describe, expect, it } from "vitest";
import { listFieldsWithoutSize, listSizesOf, operationCost } from "../src/demand-control.ts";
import { listSizesOfSchema, secretMatches } from "../src/subgraph-guard.ts";
import { kafkaSecurity, kafkaSecurityIssues } from "../src/env.ts";

const typeDefs = parse(`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@listSize"])
  type Query {
    items(first: Int = 20): [Item!]! @listSize(slicingArguments: ["first"], requireOneSlicingArgument: false)
    page(first: Int = 10): Page! @listSize(slicingArguments: ["first"], sizedFields: ["edges"], requireOneSlicingArgument: false)
    tags: [String!]! @listSize(assumedSize: 5)
    unsized: [Item!]!
  }
  type Page { edges: [Item!]! hasNext: Boolean! }
  type Item @key(fields: "id") { id: ID! name: String! owner: Owner! }
  type Owner { id: ID! }
`);
const schema = buildSubgraphSchema({ typeDefs, resolvers: {} });
const sizes = listSizesOfSchema(schema);
const cost = (query: string, variables: Record<string, unknown> = {}) =>
  operationCost({ schema, sizes, document: parse(query), variables });

describe("operationCost", () => {
  it("multiplies a list by its slicing argument, from a literal, a variable or the argument's default", () => {
    expect(cost(`{ items(first: 3) { id } }`)).toBe(3);
    expect(cost(`query ($n: Int) { items(first: $n) { id } }`, { n: 100 })).toBe(100);
    expect(cost(`{ items { id } }`)).toBe(20);
    expect(cost(`{ items(first: 4) { owner { id } } }`)).toBe(8);
  });

  it("counts every aliased and every repeated field", () => {
    expect(cost(`{ a: items(first: 5) { id } b: items(first: 5) { id } }`)).toBe(10);
    expect(cost(`{ items(first: 5) { owner { id } owner { id } } }`)).toBe(15);
    const fragment = `fragment F on Query { items(first: 5) { id } } { ...F ...F }`;
    expect(cost(fragment)).toBe(10);
  });

  it("sizes a connection's edges by its parent's slicing argument, and an unsized list by the default of 100", () => {
    expect(cost(`{ page(first: 7) { edges { id } hasNext } }`)).toBe(1 + 7);
    expect(cost(`{ tags }`)).toBe(0);
    expect(cost(`{ unsized { id } }`)).toBe(100);
  });

  it("sizes _entities by its representations", () => {
    const representations = Array.from({ length: 12 }, (_, i) => ({ __typename: "Item", id: String(i) }));
    const query = `query ($r: [_Any!]!) { _entities(representations: $r) { ... on Item { owner { id } } } }`;
    expect(cost(query, { r: representations })).toBe(12 * 2);
  });
});

describe("list sizes of the supergraph", () => {
  it("every list field of every subgraph declares @listSize (or is sized by its parent)", () => {
    const root = path.resolve(import.meta.dirname, "../../../subgraphs");
    for (const name of SUBGRAPH_NAMES) {
      const sdl = parse(readFileSync(path.join(root, name, "src/schema.graphql"), "utf8"));
      const built = buildSubgraphSchema({ typeDefs: sdl, resolvers: {} });
      expect(listFieldsWithoutSize(built, listSizesOf(sdl)), name).toEqual([]);
    }
  });
});

describe("secretMatches", () => {
  it("accepts the exact secret only, whatever the lengths", () => {
    const secret = "s".repeat(40);
    expect(secretMatches(secret, secret)).toBe(true);
    expect(secretMatches(`${secret}x`, secret)).toBe(false);
    expect(secretMatches("", secret)).toBe(false);
    expect(secretMatches(undefined, secret)).toBe(false);
  });
});

describe("Kafka security settings", () => {
  it("maps SCRAM and TLS to kafkajs options and refuses incomplete or clear-text combinations", () => {
    const scram = {
      KAFKA_SSL: true,
      KAFKA_SASL_MECHANISM: "scram-sha-512" as const,
      KAFKA_SASL_USERNAME: "svc",
      KAFKA_SASL_PASSWORD: "pw",
    };
    expect(kafkaSecurityIssues(scram)).toEqual([]);
    expect(kafkaSecurity(scram)).toEqual({
      ssl: true,
      sasl: { mechanism: "scram-sha-512", username: "svc", password: "pw" },
    });
    expect(kafkaSecurity({ KAFKA_SSL: false })).toEqual({});
    expect(
      kafkaSecurityIssues({
        KAFKA_SSL: false,
        KAFKA_SASL_MECHANISM: "plain",
        KAFKA_SASL_USERNAME: "a",
        KAFKA_SASL_PASSWORD: "b",
      }),
    ).toHaveLength(1);
    expect(kafkaSecurityIssues({ KAFKA_SSL: true, KAFKA_SASL_MECHANISM: "scram-sha-256" })).toHaveLength(1);
  });
});
