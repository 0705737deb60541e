import { buildSubgraphSchema } from "@apollo/subgraph";
import { createLogger, startService, type RunningService } from "@boxoffice/service-kit";
import { parse } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { composeSdl, startGateway, type RunningGateway } from "../src/index.ts";

const SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
  type Query { "Answers after 1 s." slowRead: Int }
  type Mutation { "Answers after 1 s." slowWrite: Int }
`;

const logger = createLogger("gateway-test", "silent");
const executed = { reads: 0, writes: 0 };
let subgraph: RunningService;
let gateway: RunningGateway;

beforeAll(async () => {
  const later = (count: () => number) => new Promise((resolve) => setTimeout(() => resolve(count()), 1_000));
  subgraph = await startService({
    name: "slow",
    port: 0,
    logger,
    schema: buildSubgraphSchema({
      typeDefs: parse(SDL),
      resolvers: {
        Query: { slowRead: () => later(() => (executed.reads += 1)) },
        Mutation: { slowWrite: () => later(() => (executed.writes += 1)) },
      },
    }),
    context: () => Promise.resolve({}),
  });
  gateway = await startGateway({
    supergraphSdl: composeSdl([{ name: "slow", url: subgraph.url, sdl: SDL }]),
    port: 0,
    corsOrigins: [],
    logger,
    production: true,
  });
});
afterAll(async () => {
  await gateway?.stop();
  await subgraph?.stop();
});

async function post(query: string, cookie: string): Promise<unknown> {
  const res = await fetch(gateway.url, {
    method: "POST",
    headers: { "content-type": "application/json", cookie },
    body: JSON.stringify({ query }),
  });
  return res.json();
}

describe("identical subgraph requests in flight", () => {
  it("a query asked by the same caller at the same moment runs once; another caller's runs on its own", async () => {
    const answers = await Promise.all([
      ...Array.from({ length: 4 }, () => post("{ slowRead }", "session=alice")),
      post("{ slowRead }", "session=bob"),
    ]);
    expect(executed.reads).toBe(2);
    const alice = answers[0];
    expect(answers.slice(0, 4)).toEqual([alice, alice, alice, alice]);
    expect(answers[4]).not.toEqual(alice);
  });

  it("a mutation runs once per client request, even when identical and simultaneous", async () => {
    const answers = await Promise.all(
      Array.from({ length: 3 }, () => post("mutation { slowWrite }", "session=alice")),
    );
    expect(executed.writes).toBe(3);
    expect(answers.map((a) => (a as { data: { slowWrite: number } }).data.slowWrite).sort()).toEqual([
      1, 2, 3,
    ]);
  });
});
