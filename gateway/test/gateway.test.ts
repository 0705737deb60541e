import net from "node:net";
import { createLogger } from "@boxoffice/service-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CompositionError, composeSdl, startGateway, type RunningGateway } from "../src/index.ts";
import { ITEMS_SDL, SESSION_COOKIES, startFixture, USERS_SDL, type Fixture } from "./fixture-subgraphs.ts";

const logger = createLogger("gateway-test", "silent");
let fixture: Fixture;
let gateway: RunningGateway;
let production: RunningGateway;

beforeAll(async () => {
  fixture = await startFixture();
  const supergraphSdl = composeSdl([
    { name: "users", url: fixture.users.url, sdl: USERS_SDL },
    { name: "items", url: fixture.items.url, sdl: ITEMS_SDL },
  ]);
  const common = {
    supergraphSdl,
    port: 0,
    corsOrigins: ["https://app.example.test"],
    logger,
    subgraphTimeoutMs: 1000,
  };
  gateway = await startGateway({ ...common, production: false });
  production = await startGateway({ ...common, production: true });
});
afterAll(async () => {
  await gateway?.stop();
  await production?.stop();
  await fixture?.stop();
});

type Body = {
  data?: Record<string, unknown> | null;
  errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
};

async function post(query: string, headers: Record<string, string> = {}, target = gateway) {
  const res = await fetch(target.url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ query }),
  });
  return { res, body: (await res.json()) as Body };
}

describe("gateway", () => {
  it("forwards cookie, authorization, traceparent and the request id to subgraphs", async () => {
    const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    const { res, body } = await post("{ echoHeaders }", {
      cookie: "session=abc",
      authorization: "Bearer xyz",
      traceparent,
      "x-request-id": "req-42",
    });
    const seen = JSON.parse(body.data?.echoHeaders as string) as Record<string, string>;
    expect(seen).toMatchObject({
      cookie: "session=abc",
      authorization: "Bearer xyz",
      traceparent,
      "x-request-id": "req-42",
    });
    expect(res.headers.get("x-request-id")).toBe("req-42");
  });

  it("passes every Set-Cookie from a subgraph back unchanged, Expires commas included", async () => {
    const { res, body } = await post("mutation { login }");
    expect(body.data).toEqual({ login: true });
    expect(res.headers.getSetCookie()).toEqual(SESSION_COOKIES);
  });

  it("keeps a subgraph's UNAUTHENTICATED code (HTTP 200, field null)", async () => {
    const { res, body } = await post("{ secret }");
    expect(res.status).toBe(200);
    expect(body.data).toEqual({ secret: null });
    expect(body.errors?.[0]).toMatchObject({
      message: "Sign in to see this.",
      extensions: { code: "UNAUTHENTICATED" },
    });
  });

  it("a subgraph refusing the credentials (HTTP 401) gives the client 401 with its code and reason, no internals", async () => {
    const { res, body } = await post("{ secret }", { authorization: "Bearer forged" });
    expect(res.status).toBe(401);
    expect(body.errors).toEqual([
      expect.objectContaining({
        message: "Authentication failed",
        extensions: { code: "UNAUTHENTICATED", reason: "BAD_SIGNATURE" },
      }),
    ]);
    expect(JSON.stringify(body)).not.toMatch(/127\.0\.0\.1|serviceName|response|stacktrace/);
  });

  it("a stalled subgraph gives SERVICE_UNAVAILABLE after the timeout instead of hanging", async () => {
    const { body } = await post("{ slow }");
    // It may have done the work: not "retry blindly".
    expect(body.errors?.[0]).toMatchObject({
      extensions: { code: "SERVICE_UNAVAILABLE", retryable: false, outcomeUnknown: true },
    });
    expect(body.data).toEqual({ slow: null });
  });

  async function gatewayWithItemsAt(url: string) {
    return startGateway({
      supergraphSdl: composeSdl([
        { name: "users", url: fixture.users.url, sdl: USERS_SDL },
        { name: "items", url, sdl: ITEMS_SDL },
      ]),
      port: 0,
      corsOrigins: [],
      logger,
      subgraphTimeoutMs: 1000,
      production: true,
    });
  }

  it("a subgraph that cannot be reached gives SERVICE_UNAVAILABLE, retryable (nothing ran), and no address", async () => {
    const closed = await new Promise<number>((resolve) => {
      const server = net.createServer().listen(0, "127.0.0.1", () => {
        const { port } = server.address() as net.AddressInfo;
        server.close(() => resolve(port));
      });
    });
    const down = await gatewayWithItemsAt(`http://127.0.0.1:${closed}/graphql`);
    try {
      const { body } = await post("{ items { id } }", {}, down);
      expect(body.errors?.[0]?.extensions).toEqual({ code: "SERVICE_UNAVAILABLE", retryable: true });
      expect(JSON.stringify(body)).not.toMatch(/127\.0\.0\.1|ECONNREFUSED|stacktrace/);
    } finally {
      await down.stop();
    }
  });

  it("a subgraph that drops the connection mid-request gives SERVICE_UNAVAILABLE with outcomeUnknown, not retryable", async () => {
    // Reads the request, then closes the socket without answering (a process killed mid-request).
    const dropper = net.createServer((socket) => socket.once("data", () => socket.destroy()));
    await new Promise<void>((resolve) => dropper.listen(0, "127.0.0.1", resolve));
    const { port } = dropper.address() as net.AddressInfo;
    const cut = await gatewayWithItemsAt(`http://127.0.0.1:${port}/graphql`);
    try {
      const { body } = await post("{ items { id } }", {}, cut);
      expect(body.errors?.[0]?.extensions).toEqual({
        code: "SERVICE_UNAVAILABLE",
        retryable: false,
        outcomeUnknown: true,
      });
      expect(JSON.stringify(body)).not.toMatch(/127\.0\.0\.1|other side closed|stacktrace/);
    } finally {
      await cut.stop();
      await new Promise((resolve) => dropper.close(resolve));
    }
  });

  it("malformed JSON and oversized bodies get GraphQL-shaped JSON errors, never an HTML stack trace", async () => {
    const bad = await fetch(gateway.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{nope",
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({
      errors: [{ message: "Malformed request body: send JSON.", extensions: { code: "BAD_REQUEST" } }],
    });
    const big = await fetch(gateway.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: `{ ok }`, padding: "x".repeat(200_000) }),
    });
    expect(big.status).toBe(413);
    expect(((await big.json()) as Body).errors?.[0]?.extensions?.code).toBe("BAD_REQUEST");
  });

  it("an unknown operationName is the client's mistake: 400, not an internal error", async () => {
    const res = await fetch(gateway.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: "query A { echoHeaders }", operationName: "B" }),
    });
    const body = (await res.json()) as Body;
    expect(res.status).toBe(400);
    expect(body.errors?.[0]?.extensions?.code).toBe("OPERATION_RESOLUTION_FAILURE");
  });

  it("masks internal errors: no message detail, no stack trace", async () => {
    const { body } = await post("{ boom }");
    expect(body.errors?.[0]?.extensions?.code).toBe("INTERNAL_SERVER_ERROR");
    expect(JSON.stringify(body)).not.toMatch(/hunter2|stacktrace/);
  });

  it("resolves entities across subgraphs", async () => {
    const { body } = await post("{ items { id owner { id email } } }");
    expect(body.data).toEqual({ items: [{ id: "i1", owner: { id: "u1", email: "u1@example.test" } }] });
  });

  it("CSRF prevention blocks a text/plain POST and a GET mutation carrying the cookie; no subgraph runs", async () => {
    const before = { ...fixture.calls };
    const plain = await fetch(gateway.url, {
      method: "POST",
      headers: { "content-type": "text/plain", cookie: "session=abc" },
      body: JSON.stringify({ query: "mutation { login }" }),
    });
    expect(plain.status).toBe(400);
    const get = await fetch(`${gateway.url}?query=${encodeURIComponent("mutation { login }")}`, {
      headers: { cookie: "session=abc" },
    });
    expect([400, 405]).toContain(get.status);
    expect(get.headers.getSetCookie()).toEqual([]);
    const getWithPreflightHeader = await fetch(
      `${gateway.url}?query=${encodeURIComponent("mutation { login }")}`,
      {
        headers: { cookie: "session=abc", "apollo-require-preflight": "true" },
      },
    );
    expect(getWithPreflightHeader.status).toBe(405);
    expect(fixture.calls).toEqual(before);
  });

  it("rejects a 30-level query and a 5,000-alias query before execution", async () => {
    const before = { ...fixture.calls };
    const deep = `{ chain { ${"next { ".repeat(29)}value${" }".repeat(29)} } }`;
    const d = await post(deep);
    expect(d.res.status).toBe(400);
    expect(d.body.errors?.[0]?.extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");
    const aliases = `{ ${Array.from({ length: 5000 }, (_, i) => `a${i}: echoHeaders`).join(" ")} }`;
    const a = await post(aliases);
    expect(a.res.status).toBe(400);
    expect(a.body.errors?.[0]?.extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");
    const typenames = await post(
      `{ ${Array.from({ length: 5000 }, (_, i) => `t${i}: __typename`).join(" ")} }`,
    );
    expect(typenames.res.status).toBe(400);
    expect(fixture.calls).toEqual(before);
  });

  it("CORS: credentials for allowlisted origins only, never a wildcard", async () => {
    const ok = await fetch(gateway.url, {
      method: "OPTIONS",
      headers: { origin: "https://app.example.test", "access-control-request-method": "POST" },
    });
    expect(ok.headers.get("access-control-allow-origin")).toBe("https://app.example.test");
    expect(ok.headers.get("access-control-allow-credentials")).toBe("true");
    const evil = await fetch(gateway.url, {
      method: "OPTIONS",
      headers: { origin: "https://evil.example.test", "access-control-request-method": "POST" },
    });
    expect(evil.headers.get("access-control-allow-origin")).toBeNull();
    await expect(
      startGateway({ supergraphSdl: "", port: 0, corsOrigins: ["*"], logger, production: false }),
    ).rejects.toThrow(/exact origins/);
  });

  it("serves the Sandbox landing page (with cookies) in development only", async () => {
    const dev = await fetch(gateway.url, { headers: { accept: "text/html" } });
    const html = await dev.text();
    expect(html).toMatch(/sandbox/i);
    expect(html).toContain("includeCookies");
    const prod = await fetch(production.url, { headers: { accept: "text/html" } });
    expect(await prod.text()).not.toMatch(/sandbox/i);
  });
});

describe("composition", () => {
  it("reports a type conflict between subgraphs with its Federation code", () => {
    const conflicting = USERS_SDL.replace("email: String", "email: Int");
    let error: unknown;
    try {
      composeSdl([
        { name: "users", url: "http://a/graphql", sdl: conflicting },
        {
          name: "other",
          url: "http://b/graphql",
          sdl: USERS_SDL.replace("type Mutation { login: Boolean }", ""),
        },
      ]);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CompositionError);
    expect((error as CompositionError).errors.join("\n")).toMatch(
      /FIELD_TYPE_MISMATCH|INVALID_FIELD_SHARING/,
    );
  });
});
