/**
 * Issue "supergraph part 1" journeys, through the gateway with every process running: sessions by
 * cookie and by bearer token, a ticket resolved across subgraphs, revocation seen by every
 * subgraph, FORBIDDEN/UNAUTHENTICATED through the gateway, and the N+1 check.
 */
import {
  createSessionSigner,
  exportSigningKey,
  generateSigningKey,
  importSigningKey,
} from "@boxoffice/auth-verify";
import { graphqlRequest } from "@boxoffice/service-kit/testing";
import { describe, expect, it } from "vitest";
import { usePlatform } from "./support/client.ts";

// The test knows accounts' signing key, so it can forge an *expired* but correctly signed token.
const signingKeyJwk = JSON.stringify(await exportSigningKey(await generateSigningKey({ extractable: true })));
const world = usePlatform({
  processEnv: { accounts: { AUTH_SIGNING_KEY: signingKeyJwk, LOG_LEVEL: "debug" } },
});

const PASSWORD = "correct horse battery staple";
const gql = (query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
  graphqlRequest(world.platform.gatewayUrl, query, variables, headers);

async function newUser(): Promise<{ id: string; token: string; cookie: string }> {
  const email = `journey.${Date.now()}.${Math.random().toString(36).slice(2)}@example.test`;
  const { res, body } = await gql(
    `mutation ($e: String!, $p: String!) { signUp(input: { email: $e, password: $p }) { token user { id } } }`,
    { e: email, p: PASSWORD },
  );
  const { token, user } = body.data?.signUp as { token: string; user: { id: string } };
  return { id: user.id, token, cookie: res.headers.getSetCookie()[0]!.split(";")[0]! };
}

const CREATE = `mutation ($t: String!, $p: Int!, $c: String!) {
  createTicket(input: { title: $t, priceMinor: $p, currency: $c }) { id version status }
}`;

describe("part 1 journey through the gateway", () => {
  it("cookie session: create and update a ticket, then ticket { seller { email } } across subgraphs", async () => {
    const seller = await newUser();
    const created = await gql(
      CREATE,
      { t: "Radiohead, Dec 2", p: 4500, c: "EUR" },
      { cookie: seller.cookie },
    );
    expect(created.body.errors).toBeUndefined();
    const ticket = created.body.data?.createTicket as { id: string; version: number };
    expect(ticket.version).toBe(1);
    const updated = await gql(
      `mutation ($id: ID!) { updateTicket(id: $id, input: { priceMinor: 5000 }) { priceMinor version } }`,
      { id: ticket.id },
      { cookie: seller.cookie },
    );
    expect(updated.body.data).toEqual({ updateTicket: { priceMinor: 5000, version: 2 } });
    const read = await gql(
      `query ($id: ID!) { ticket(id: $id) { title priceMinor currency seller { id email } } }`,
      { id: ticket.id },
      { cookie: seller.cookie },
    );
    // The seller reads their own listing: their e-mail, resolved by accounts.
    expect(read.body.data?.ticket).toMatchObject({
      title: "Radiohead, Dec 2",
      priceMinor: 5000,
      currency: "EUR",
      seller: { id: seller.id, email: expect.stringContaining("@example.test") as unknown },
    });
    // Anyone else sees the seller, but not their e-mail address.
    const stranger = await newUser();
    const other = await gql(
      `query ($id: ID!) { ticket(id: $id) { seller { id email } } }`,
      { id: ticket.id },
      { cookie: stranger.cookie },
    );
    expect(other.body.data?.ticket).toEqual({ seller: { id: seller.id, email: null } });
  });

  it("a client sending only Authorization: Bearer works", async () => {
    const user = await newUser();
    const created = await gql(
      CREATE,
      { t: "Mobile listing", p: 1200, c: "GBP" },
      { authorization: `Bearer ${user.token}` },
    );
    expect(created.body.errors).toBeUndefined();
    const me = await gql("{ me { id } }", {}, { authorization: `Bearer ${user.token}` });
    expect(me.body.data).toEqual({ me: { id: user.id } });
  });

  it("a non-seller's updateTicket is FORBIDDEN and changes nothing", async () => {
    const seller = await newUser();
    const other = await newUser();
    const ticket = (await gql(CREATE, { t: "Not yours", p: 100, c: "USD" }, { cookie: seller.cookie })).body
      .data?.createTicket as { id: string };
    const attempt = await gql(
      `mutation ($id: ID!) { updateTicket(id: $id, input: { priceMinor: 1 }) { id } }`,
      { id: ticket.id },
      { cookie: other.cookie },
    );
    expect(attempt.body.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    const read = await gql(`query ($id: ID!) { ticket(id: $id) { priceMinor version } }`, { id: ticket.id });
    expect(read.body.data?.ticket).toEqual({ priceMinor: 100, version: 1 });
  });

  it("expired and forged cookies get UNAUTHENTICATED through the gateway", async () => {
    const user = await newUser();
    const key = await importSigningKey(JSON.parse(signingKeyJwk) as Parameters<typeof importSigningKey>[0]);
    const signer = createSessionSigner({
      issuer: "boxoffice-accounts",
      audience: "boxoffice",
      currentKey: key,
    });
    const longAgo = Date.now() - 2 * 3600 * 1000;
    const expired = await signer.issue(
      { userId: user.id, sessionId: crypto.randomUUID(), ttlSeconds: 600 },
      longAgo,
    );
    const cookieName = user.cookie.split("=")[0]!;
    for (const cookie of [`${cookieName}=${expired.token}`, `${cookieName}=${user.token.slice(0, -4)}AAAA`]) {
      const { body } = await gql(CREATE, { t: "x", p: 1, c: "EUR" }, { cookie });
      expect(body.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
      expect(JSON.stringify(body)).not.toMatch(/stacktrace|at .*\.ts:/);
    }
  });

  it("sign out: the old token is refused by every subgraph within 1 s", async () => {
    const user = await newUser();
    const headers = { cookie: user.cookie };
    expect(
      (await gql(CREATE, { t: "Before sign-out", p: 100, c: "EUR" }, headers)).body.errors,
    ).toBeUndefined();
    const out = await gql("mutation { signOut }", {}, headers);
    expect(out.body.data).toEqual({ signOut: true });
    const signedOutAt = performance.now();
    // accounts: the session is anonymous at once (it owns the sessions table).
    expect((await gql("{ me { id } }", {}, headers)).body.data).toEqual({ me: null });
    // tickets: refuses the token once the session.revoked event reached its denylist.
    let refusedAfterMs = Number.POSITIVE_INFINITY;
    while (performance.now() - signedOutAt < 1000) {
      const { body } = await gql(CREATE, { t: "After sign-out", p: 100, c: "EUR" }, headers);
      if (body.errors?.[0]?.extensions?.code === "UNAUTHENTICATED") {
        refusedAfterMs = performance.now() - signedOutAt;
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(refusedAfterMs).toBeLessThan(1000);
  });

  it("N+1: tickets(first: 50) { seller { email } } makes one _entities call to accounts and one SQL query there", async () => {
    const sellers = [await newUser(), await newUser(), await newUser()];
    for (let i = 0; i < 12; i += 1) {
      await gql(CREATE, { t: `Bulk ${i}`, p: 100 + i, c: "EUR" }, { cookie: sellers[i % 3]!.cookie });
    }
    const accounts = world.platform.processes.find((p) => p.name === "accounts")!;
    const before = accounts.output.join("").split("\n").length;
    const requestId = `n-plus-one-${Date.now()}`;
    const { body } = await gql(
      "{ tickets(first: 50) { id seller { email } } }",
      {},
      { "x-request-id": requestId },
    );
    expect((body.data?.tickets as unknown[]).length).toBeGreaterThanOrEqual(12);
    await new Promise((r) => setTimeout(r, 300)); // let the log lines arrive
    const lines = accounts.output
      .join("")
      .split("\n")
      .slice(before - 1)
      .filter(Boolean);
    const parsed = lines.flatMap((l) => {
      try {
        return [JSON.parse(l) as { msg?: string; requestId?: string; fields?: string[]; sql?: string }];
      } catch {
        return [];
      }
    });
    const entityCalls = parsed.filter((l) => l.msg === "graphql operation" && l.requestId === requestId);
    expect(entityCalls.map((l) => l.fields)).toEqual([["_entities"]]);
    const userQueries = parsed.filter((l) => l.msg === "sql query" && /"users"/.test(l.sql ?? ""));
    expect(userQueries).toHaveLength(1);
  });
});
