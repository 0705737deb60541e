import { buildSubgraphSchema } from "@apollo/subgraph";
import { GraphQLError, parse } from "graphql";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import {
  createLogger,
  EnvError,
  envFields,
  loadEnv,
  startService,
  type ReadinessResult,
  type RunningService,
} from "../src/index.ts";

const logger = createLogger("test", "silent");
const typeDefs = parse(`
  type Query {
    ok: String
    boom: String
    badInput: String
    whoami: String
  }
`);

let running: RunningService | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

async function start(ready: { value: ReadinessResult } = { value: true }, order: string[] = []) {
  running = await startService({
    name: "test",
    port: 0,
    logger,
    schema: buildSubgraphSchema({
      typeDefs,
      resolvers: {
        Query: {
          ok: () => "fine",
          boom: () => {
            throw new Error("connection string postgresql://secret@db leaked");
          },
          badInput: () => {
            throw new GraphQLError("title must not be empty", { extensions: { code: "BAD_USER_INPUT" } });
          },
          whoami: (_: unknown, __: unknown, ctx: unknown) => (ctx as { requestId: string }).requestId,
        },
      },
    }),
    context: ({ scope }) => Promise.resolve({ requestId: scope.requestId }),
    readiness: [{ name: "database", check: () => ready.value }],
    shutdown: [
      { name: "consumers", run: () => Promise.resolve(void order.push("consumers")) },
      { name: "database", run: () => Promise.resolve(void order.push("database")) },
    ],
  });
  return running;
}

async function gql(service: RunningService, query: string, headers: Record<string, string> = {}) {
  const res = await fetch(service.url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ query }),
  });
  return {
    res,
    body: (await res.json()) as { data?: Record<string, unknown>; errors?: Array<Record<string, unknown>> },
  };
}

describe("startService", () => {
  it("answers GraphQL and masks internal errors without stack traces", async () => {
    const service = await start();
    expect((await gql(service, "{ ok }")).body.data).toEqual({ ok: "fine" });
    const { body } = await gql(service, "{ boom }");
    expect(body.errors?.[0]).toMatchObject({
      message: "Internal server error",
      extensions: { code: "INTERNAL_SERVER_ERROR" },
    });
    expect(JSON.stringify(body)).not.toMatch(/secret|stacktrace|at .*\.ts/);
  });

  it("keeps typed client errors with their message and code", async () => {
    const service = await start();
    const { body } = await gql(service, "{ badInput }");
    expect(body.errors?.[0]).toMatchObject({
      message: "title must not be empty",
      extensions: { code: "BAD_USER_INPUT" },
    });
    expect(JSON.stringify(body)).not.toContain("stacktrace");
  });

  it("propagates a safe x-request-id and replaces an unsafe one", async () => {
    const service = await start();
    const kept = await gql(service, "{ whoami }", { "x-request-id": "req-123" });
    expect(kept.body.data).toEqual({ whoami: "req-123" });
    expect(kept.res.headers.get("x-request-id")).toBe("req-123");
    const replaced = await gql(service, "{ whoami }", { "x-request-id": "bad id\twith spaces" });
    expect(replaced.body.data?.whoami).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("/healthz is 200 while serving; /readyz is 503 naming what is not ready, 200 listing what is degraded, then 200", async () => {
    const ready: { value: ReadinessResult } = { value: false };
    const service = await start(ready);
    const base = service.url.replace("/graphql", "");
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const notReady = await fetch(`${base}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toEqual({ status: "not ready", notReady: ["database"], degraded: [] });
    ready.value = "degraded";
    const degraded = await fetch(`${base}/readyz`);
    expect(degraded.status).toBe(200);
    expect(await degraded.json()).toEqual({ status: "ready", notReady: [], degraded: ["database"] });
    ready.value = true;
    const readyNow = await fetch(`${base}/readyz`);
    expect(readyNow.status).toBe(200);
    expect(await readyNow.json()).toEqual({ status: "ready", notReady: [], degraded: [] });
  });

  it("stop() closes HTTP, then runs shutdown steps in order", async () => {
    const order: string[] = [];
    const service = await start({ value: true }, order);
    await service.stop();
    running = undefined;
    expect(order).toEqual(["consumers", "database"]);
    await expect(fetch(service.url.replace("/graphql", "/healthz"))).rejects.toThrow();
  });
});

describe("loadEnv", () => {
  const schema = z.object({ PORT: envFields.port(4001), DATABASE_URL: z.url(), NODE_ENV: envFields.nodeEnv });

  it("applies defaults and treats empty strings as unset", () => {
    expect(loadEnv(schema, { DATABASE_URL: "postgresql://x@y/z", PORT: "" })).toEqual({
      PORT: 4001,
      DATABASE_URL: "postgresql://x@y/z",
      NODE_ENV: "development",
    });
  });

  it("reports every problem at once", () => {
    let error: unknown;
    try {
      loadEnv(schema, { PORT: "http", NODE_ENV: "staging" });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(EnvError);
    expect((error as EnvError).issues.map((i) => i.split(":")[0]).sort()).toEqual([
      "DATABASE_URL",
      "NODE_ENV",
      "PORT",
    ]);
  });
});
