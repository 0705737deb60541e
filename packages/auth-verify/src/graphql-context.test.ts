// The Apollo-style context function on a real node:http server: the context function receives the
// real IncomingMessage, exactly as Apollo Server's standalone and Express integrations pass it.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { buildSchema, graphql, GraphQLError, type ExecutionResult } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCountingServer } from "../test/support/jwks-server.ts";
import { AUDIENCE, ISSUER, signToken } from "../test/support/tokens.ts";
import {
  createAuthContext,
  requireOwner,
  requireRole,
  requireUser,
  type AuthContext,
} from "./graphql-context.ts";
import { createSessionCookies } from "./session-cookies.ts";
import { createSessionSigner, generateSigningKey, type SigningKey } from "./session-signer.ts";
import { createVerifier, type Verifier } from "./verifier.ts";

const schema = buildSchema(`
  type Query {
    me: String
    listing(ownerId: String!): String
    adminReport: String
    publicEvents: [String!]!
  }
`);

const rootValue = {
  me: (_args: unknown, ctx: AuthContext) => requireUser(ctx).userId,
  listing: ({ ownerId }: { ownerId: string }, ctx: AuthContext) =>
    `listing of ${requireOwner(ctx, ownerId, { overrideRole: "support" }).userId}`,
  adminReport: (_args: unknown, ctx: AuthContext) => `report for ${requireRole(ctx, "admin").userId}`,
  publicEvents: () => ["concert"],
};

interface HttpAnswer {
  status: number;
  body: ExecutionResult;
}

/** A tiny GraphQL-over-HTTP server that handles context errors like Apollo Server does. */
async function startGraphqlServer(verifier: Verifier) {
  // Typed as Apollo's standalone ContextFunction would be: proves IncomingMessage fits RequestLike.
  const context: (args: { req: IncomingMessage; res: ServerResponse }) => Promise<AuthContext> =
    createAuthContext(verifier);
  const server = createServer((req, res) => {
    let raw = "";
    req.on("data", (chunk: Buffer) => {
      raw += chunk.toString("utf8");
    });
    req.on("end", () => {
      const reply = (status: number, body: ExecutionResult) => {
        res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
      };
      const { query } = JSON.parse(raw) as { query: string };
      context({ req, res })
        .then(async (contextValue) =>
          reply(200, await graphql({ schema, source: query, rootValue, contextValue })),
        )
        .catch((error: unknown) => {
          // Apollo Server turns any other error into a GraphQLError carrying its message.
          if (!(error instanceof GraphQLError)) {
            const message = error instanceof Error ? error.message : String(error);
            return reply(500, { errors: [new GraphQLError(`Context creation failed: ${message}`)] });
          }
          const { http, ...extensions } = error.extensions as { http?: { status: number } };
          return reply(http?.status ?? 500, { errors: [new GraphQLError(error.message, { extensions })] });
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    async post(query: string, headers: Record<string, string> = {}): Promise<HttpAnswer> {
      const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify({ query }),
      });
      return { status: response.status, body: (await response.json()) as ExecutionResult };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

let key: SigningKey;
let api: Awaited<ReturnType<typeof startGraphqlServer>>;
const cookies = createSessionCookies({ environment: "test" });

beforeAll(async () => {
  key = await generateSigningKey();
  const verifier = createVerifier({
    issuer: ISSUER,
    audience: AUDIENCE,
    keys: { jwks: { keys: [{ ...key.publicJwk }] } },
  });
  api = await startGraphqlServer(verifier);
});

afterAll(async () => {
  await api.close();
});

async function tokenFor(userId: string, roles: string[] = []): Promise<string> {
  const signer = createSessionSigner({ issuer: ISSUER, audience: AUDIENCE, currentKey: key });
  return (await signer.issue({ userId, sessionId: `s-${userId}`, roles })).token;
}

describe("createAuthContext and the resolver guards", () => {
  it("serves public fields anonymously and refuses me with UNAUTHENTICATED", async () => {
    expect((await api.post("{ publicEvents }")).body.data).toEqual({ publicEvents: ["concert"] });
    const answer = await api.post("{ me }");
    expect(answer.body.errors?.[0]?.extensions).toEqual({ code: "UNAUTHENTICATED" });
  });

  it("authenticates from the session cookie the accounts subgraph would set", async () => {
    const issued = await createSessionSigner({ issuer: ISSUER, audience: AUDIENCE, currentKey: key }).issue({
      userId: "web-user",
      sessionId: "s-web",
    });
    const setCookie = cookies.serialize(issued);
    const cookieHeader = setCookie.split(";")[0] ?? "";
    const answer = await api.post("{ me }", { cookie: `theme=dark; ${cookieHeader}` });
    expect(answer).toEqual({ status: 200, body: { data: { me: "web-user" } } });
  });

  it("authenticates from a bearer token (mobile)", async () => {
    const answer = await api.post("{ me }", { authorization: `Bearer ${await tokenFor("mobile-user")}` });
    expect(answer.body.data).toEqual({ me: "mobile-user" });
  });

  it("fails the whole request with 401 UNAUTHENTICATED and only a reason code for an invalid token", async () => {
    const expired = await signToken(key.privateKey, key.kid, { claims: { exp: 1 } });
    const answer = await api.post("{ publicEvents }", { authorization: `Bearer ${expired}` });
    expect(answer.status).toBe(401);
    expect(answer.body.errors).toHaveLength(1);
    expect(answer.body.errors?.[0]).toMatchObject({
      message: "Authentication failed",
      extensions: { code: "UNAUTHENTICATED", reason: "TOKEN_EXPIRED" },
    });
    expect(JSON.stringify(answer.body)).not.toContain("jose");
  });

  it("answers FORBIDDEN for another user's resource or a missing role, and allows owner or override role", async () => {
    const buyer = { authorization: `Bearer ${await tokenFor("buyer-1")}` };
    const support = { authorization: `Bearer ${await tokenFor("agent-1", ["support"])}` };
    const admin = { authorization: `Bearer ${await tokenFor("admin-1", ["admin"])}` };
    const code = (answer: HttpAnswer) => answer.body.errors?.[0]?.extensions?.["code"];

    expect((await api.post('{ listing(ownerId: "buyer-1") }', buyer)).body.data).toEqual({
      listing: "listing of buyer-1",
    });
    expect(code(await api.post('{ listing(ownerId: "seller-9") }', buyer))).toBe("FORBIDDEN");
    expect((await api.post('{ listing(ownerId: "seller-9") }', support)).body.data).toEqual({
      listing: "listing of agent-1",
    });
    expect(code(await api.post("{ adminReport }", buyer))).toBe("FORBIDDEN");
    expect(code(await api.post("{ adminReport }"))).toBe("UNAUTHENTICATED");
    expect((await api.post("{ adminReport }", admin)).body.data).toEqual({
      adminReport: "report for admin-1",
    });
  });

  it("answers 503 SERVICE_UNAVAILABLE, not 401, when the keys cannot be fetched", async () => {
    const jwksServer = await startCountingServer({ keys: [] });
    jwksServer.setStatus(503);
    const down = createVerifier({ issuer: ISSUER, audience: AUDIENCE, keys: { jwksUrl: jwksServer.url } });
    const downApi = await startGraphqlServer(down);
    try {
      const answer = await downApi.post("{ me }", { authorization: `Bearer ${await tokenFor("u")}` });
      expect(answer.status).toBe(503);
      expect(answer.body.errors?.[0]?.extensions).toEqual({ code: "SERVICE_UNAVAILABLE" });
    } finally {
      await downApi.close();
      await jwksServer.close();
    }
  });

  it("fails closed with an internal error when the revocation hook throws", async () => {
    const broken = createVerifier({
      issuer: ISSUER,
      audience: AUDIENCE,
      keys: { jwks: { keys: [{ ...key.publicJwk }] } },
      isRevoked: () => {
        throw new Error("denylist down");
      },
    });
    const brokenApi = await startGraphqlServer(broken);
    try {
      const answer = await brokenApi.post("{ publicEvents }", {
        authorization: `Bearer ${await tokenFor("u")}`,
      });
      expect(answer.status).toBe(500);
      expect(answer.body.data).toBeUndefined();
      // The hook's own error (a store's host name, a connection string) never reaches the client.
      expect(JSON.stringify(answer.body)).not.toContain("denylist down");
      expect(answer.body.errors?.[0]?.extensions).toEqual({ code: "INTERNAL_SERVER_ERROR" });
    } finally {
      await brokenApi.close();
    }
  });
});
