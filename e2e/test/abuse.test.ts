/**
 * Abuse at a normal request rate, through the gateway of a platform with the production limits
 * (issue 12): each abusive pattern is refused with its typed error, the legitimate pattern next to it
 * still works, and a refusal writes nothing (row counts of every subgraph table but the rate limiters'
 * own counters are unchanged). The gateway trusts one proxy hop here, so each test speaks from its own
 * client address with `X-Forwarded-For`.
 */
import { createPrivateKey, randomUUID, sign } from "node:crypto";
import { exportSigningKey, generateSigningKey, SESSION_TOKEN_TYPE } from "@boxoffice/auth-verify";
import { graphqlRequest } from "@boxoffice/service-kit/testing";
import { SUBGRAPH_NAMES } from "@boxoffice/topology";
import { beforeAll, describe, expect, it } from "vitest";
import { eventually, PASSWORD, sql, uniqueWord, usePlatform, type TestUser } from "./support/client.ts";

// The platform's accounts signs with this key, so the test can sign tokens accounts never would.
const signingJwk: Record<string, unknown> = {
  ...(await exportSigningKey(await generateSigningKey({ extractable: true }))),
};

const world = usePlatform({
  env: {
    AUTH_SIGNING_KEY: JSON.stringify(signingJwk),
    GATEWAY_TRUSTED_PROXIES: "1",
    GATEWAY_OPERATION_BUDGET: "5000",
    ACCOUNTS_SIGNIN_FREE_FAILURES: "3",
    ACCOUNTS_SIGNUP_PER_ADDRESS: "3",
    // The production defaults, stated so that the e2e support's relaxed values do not apply.
    ORDERS_MAX_PENDING_PER_BUYER: "3",
    ORDERS_REORDER_COOLDOWN_SECONDS: "300",
  },
});

const SCHEMAS = [...SUBGRAPH_NAMES];

/** Rows per table of every subgraph schema, the rate limiters' counters excepted. */
async function rowCounts(): Promise<Record<string, number>> {
  const tables = await sql<{ schema: string; name: string }>(
    world.platform,
    `SELECT table_schema AS schema, table_name AS name FROM information_schema.tables
      WHERE table_schema = ANY($1) AND table_type = 'BASE TABLE'
        AND table_name NOT IN ('_prisma_migrations', 'rate_limits') ORDER BY 1, 2`,
    [SCHEMAS],
  );
  const rows = await sql<{ name: string; n: number }>(
    world.platform,
    tables
      .map((t) => `SELECT '${t.schema}.${t.name}' AS name, count(*)::int AS n FROM "${t.schema}"."${t.name}"`)
      .join(" UNION ALL "),
  );
  return Object.fromEntries(rows.map((r) => [r.name, r.n]));
}

/** Row counts once no event is on its way any more (two readings 500 ms apart agree). */
async function settledCounts(): Promise<Record<string, number>> {
  let previous = await rowCounts();
  for (let i = 0; i < 40; i += 1) {
    await new Promise((r) => setTimeout(r, 500));
    const current = await rowCounts();
    if (JSON.stringify(current) === JSON.stringify(previous)) return current;
    previous = current;
  }
  throw new Error("the platform's tables kept changing for 20 s");
}

let addressCounter = 10;
/** A client address of its own for one test (TEST-NET-3, RFC 5737). */
function newAddress(): string {
  addressCounter += 1;
  return `203.0.113.${addressCounter}`;
}

function gqlFrom(address: string, query: string, variables: Record<string, unknown> = {}, extra = {}) {
  return graphqlRequest(world.platform.gatewayUrl, query, variables, {
    "x-forwarded-for": address,
    ...extra,
  });
}

const SIGN_UP = `mutation ($e: String!, $p: String!) { signUp(input: { email: $e, password: $p }) { user { id } } }`;
const SIGN_IN = `mutation ($e: String!, $p: String!) { signIn(input: { email: $e, password: $p }) { user { id } } }`;

async function signUpFrom(address: string, label: string): Promise<TestUser & { email: string }> {
  const email = `${label}.${uniqueWord()}@example.test`;
  const { res, body } = await gqlFrom(address, SIGN_UP, { e: email, p: PASSWORD });
  const user = (body.data?.signUp as { user: { id: string } } | undefined)?.user;
  if (!user) throw new Error(`signUp failed: ${JSON.stringify(body)}`);
  return { id: user.id, email, cookie: res.headers.getSetCookie()[0]!.split(";")[0]! };
}

/** A compact JWS signed with the platform's own signing key (as accounts would), any claims. */
function forgeToken(claims: Record<string, unknown>): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const header = encode({ alg: "EdDSA", kid: signingJwk.kid, typ: SESSION_TOKEN_TYPE });
  const payload = encode(claims);
  const key = createPrivateKey({ key: signingJwk as never, format: "jwk" });
  const signature = sign(null, Buffer.from(`${header}.${payload}`), key).toString("base64url");
  return `${header}.${payload}.${signature}`;
}

describe("token lifetime", () => {
  it("a correctly signed token valid for 100 years is refused (401 UNAUTHENTICATED); one of 8 hours works", async () => {
    const address = newAddress();
    const user = await signUpFrom(address, "lifetime");
    const now = Math.floor(Date.now() / 1000);
    const claims = { iss: "boxoffice-accounts", aud: "boxoffice", sub: user.id, sid: randomUUID(), iat: now };
    const MY_ORDERS = `{ myOrders { id } }`;
    const century = forgeToken({ ...claims, exp: now + 100 * 365 * 86_400 });
    const refused = await gqlFrom(address, MY_ORDERS, {}, { authorization: `Bearer ${century}` });
    expect(refused.res.status).toBe(401);
    expect(refused.body.errors?.[0]?.extensions).toMatchObject({
      code: "UNAUTHENTICATED",
      reason: "CLAIM_INVALID",
    });
    const eightHours = forgeToken({ ...claims, exp: now + 8 * 3600 });
    const ok = await gqlFrom(address, MY_ORDERS, {}, { authorization: `Bearer ${eightHours}` });
    expect(ok.body).toEqual({ data: { myOrders: [] } });
  });
});

describe("crafted cursors", () => {
  it("a listings cursor out of range is BAD_USER_INPUT (was INTERNAL_SERVER_ERROR); a real cursor pages on", async () => {
    const address = newAddress();
    const LISTINGS = `query ($after: String) { listings(first: 1, after: $after) { endCursor } }`;
    for (const micros of ["-999999999999999999", "999999999999999999"]) {
      const after = Buffer.from(`l1:${micros}:${randomUUID()}`).toString("base64url");
      const { body } = await gqlFrom(address, LISTINGS, { after });
      expect(body.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "after" });
    }
    const real = Buffer.from(`l1:${Date.now() * 1000}:${randomUUID()}`).toString("base64url");
    const { body } = await gqlFrom(address, LISTINGS, { after: real });
    expect(body.errors).toBeUndefined();
  });
});

describe("fair inventory", () => {
  let seller: TestUser;
  let buyer: TestUser;
  let rival: TestUser;
  const tickets: string[] = [];
  const address = newAddress();

  beforeAll(async () => {
    seller = await signUpFrom(address, "seller");
    buyer = await signUpFrom(address, "buyer");
    rival = await signUpFrom(newAddress(), "rival");
    for (let i = 0; i < 5; i += 1)
      tickets.push(await world.client.listTicket(seller, `Fair ${uniqueWord()}`));
  });

  const order = (ticketId: string, user: TestUser) =>
    eventually(
      () =>
        gqlFrom(
          address,
          `mutation ($t: ID!) { createOrder(ticketId: $t) { id } }`,
          { t: ticketId },
          {
            cookie: user.cookie,
          },
        ),
      (r) => r.body.errors?.[0]?.extensions?.code !== "NOT_FOUND",
    );

  it("a 4th pending order is CONFLICT PENDING_ORDER_LIMIT; cancel-then-reorder is REORDER_COOLDOWN while a rival may order it", async () => {
    const held: string[] = [];
    for (const ticketId of tickets.slice(0, 3)) {
      const { body } = await order(ticketId, buyer);
      held.push((body.data?.createOrder as { id: string }).id);
    }
    const before = await settledCounts();
    const fourth = await order(tickets[3]!, buyer);
    expect(fourth.body.errors?.[0]?.extensions).toMatchObject({
      code: "CONFLICT",
      reason: "PENDING_ORDER_LIMIT",
      limit: 3,
    });
    expect(await rowCounts()).toEqual(before);

    const cancelled = await gqlFrom(
      address,
      `mutation ($id: ID!) { cancelOrder(id: $id) { status } }`,
      { id: held[0] },
      {
        cookie: buyer.cookie,
      },
    );
    expect(cancelled.body.data?.cancelOrder).toEqual({ status: "CANCELLED" });
    const afterCancel = await settledCounts();
    const again = await order(tickets[0]!, buyer);
    expect(again.body.errors?.[0]?.extensions).toMatchObject({
      code: "CONFLICT",
      reason: "REORDER_COOLDOWN",
    });
    expect(again.body.errors?.[0]?.extensions?.retryAfter).toBeGreaterThan(0);
    expect(await rowCounts()).toEqual(afterCancel);
    // Another buyer takes it at once; and the buyer, now holding 2, may order a different ticket.
    expect((await order(tickets[0]!, rival)).body.data?.createOrder).toBeTruthy();
    expect((await order(tickets[3]!, buyer)).body.data?.createOrder).toBeTruthy();
  });
});

describe("sign-in throttling (NIST SP 800-63B §5.2.2)", () => {
  it("after 3 wrong passwords from one address each attempt there waits (429 RATE_LIMITED, retryAfter); the owner elsewhere signs in", async () => {
    const ownerAddress = newAddress();
    const attacker = newAddress();
    const victim = await signUpFrom(ownerAddress, "victim");
    // Counted before the wrong passwords: after the 4th the wait is 1 s, and settling takes ≥ 500 ms,
    // which on a busy machine let the wait pass before the 5th attempt. A failed sign-in writes only
    // the rate limiter's counters, which rowCounts leaves out.
    const before = await settledCounts();
    for (let i = 0; i < 4; i += 1) {
      const { body } = await gqlFrom(attacker, SIGN_IN, { e: victim.email, p: `guess number ${i}` });
      expect(body.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    }
    const throttled = await gqlFrom(attacker, SIGN_IN, { e: victim.email, p: "guess number 5" });
    expect(throttled.res.status).toBe(429);
    expect(throttled.res.headers.get("retry-after")).toBe("1");
    expect(throttled.body.errors?.[0]?.extensions).toMatchObject({ code: "RATE_LIMITED", retryAfter: 1 });
    expect(await rowCounts()).toEqual(before);
    const owner = await gqlFrom(ownerAddress, SIGN_IN, { e: victim.email, p: PASSWORD });
    expect(owner.body.data?.signIn).toEqual({ user: { id: victim.id } });
  });
});

describe("sign-up per client address", () => {
  it("the 4th sign-up from one address within the hour is 429 RATE_LIMITED and creates nothing; another address signs up", async () => {
    const address = newAddress();
    for (let i = 0; i < 3; i += 1) await signUpFrom(address, "many");
    const before = await settledCounts();
    const refused = await gqlFrom(address, SIGN_UP, { e: `more.${uniqueWord()}@example.test`, p: PASSWORD });
    expect(refused.res.status).toBe(429);
    expect(refused.body.errors?.[0]?.extensions).toMatchObject({ code: "RATE_LIMITED" });
    expect(refused.body.errors?.[0]?.extensions?.retryAfter).toBeGreaterThan(3000);
    expect(await rowCounts()).toEqual(before);
    const elsewhere = await signUpFrom(newAddress(), "elsewhere");
    expect(elsewhere.id).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe("cost limit", () => {
  const aliased = (n: number) =>
    `query ($n: Int!) { ${Array.from({ length: n }, (_, i) => `l${i}: listings(first: $n) { edges { node { id title } } }`).join(" ")} }`;

  it("30 aliased listings(first: $n) with n = 100 are COST_LIMIT_EXCEEDED (400, the cost and the limit, no 'Syntax Error'); n = 5 passes", async () => {
    const address = newAddress();
    const refused = await gqlFrom(address, aliased(30), { n: 100 });
    expect(refused.res.status).toBe(400);
    const error = refused.body.errors?.[0];
    expect(error?.extensions).toMatchObject({ code: "COST_LIMIT_EXCEEDED", limit: 5000 });
    expect(error?.extensions?.cost).toBeGreaterThan(5000);
    expect(error?.message).toContain(String(error?.extensions?.cost));
    expect(error?.message).not.toMatch(/Syntax Error/);
    const ok = await gqlFrom(address, aliased(30), { n: 5 });
    expect(ok.body.errors).toBeUndefined();
  });

  it("page sizes from argument defaults count: User.orders and Sales.items without first cost their default of 50", async () => {
    const address = newAddress();
    const user = await signUpFrom(address, "history");
    // Each alias: me 1 + orders 50 × (1 + ticket 1) + sales 1 + items 50 × (1 + ticket 1) = 202; 30 of them 6,060.
    const many = `{ ${Array.from({ length: 30 }, (_, i) => `m${i}: me { orders { ticket { id } } sales { items { ticket { id } } } }`).join(" ")} }`;
    const refused = await gqlFrom(address, many, {}, { cookie: user.cookie });
    expect(refused.body.errors?.[0]?.extensions).toMatchObject({ code: "COST_LIMIT_EXCEEDED" });
    const one = await gqlFrom(address, `{ me { orders { orderId } } }`, {}, { cookie: user.cookie });
    expect(one.body).toEqual({ data: { me: { orders: [] } } });
  });
});

describe("operation budget per client", () => {
  it("a client that spends its budget gets 429 RATE_LIMITED with retryAfter; another client is served", async () => {
    const address = newAddress();
    const page = `{ a: listings(first: 100) { edges { node { id } } } b: listings(first: 100) { edges { node { id } } } }`;
    let last = await gqlFrom(address, page);
    for (let i = 0; i < 40 && last.res.status !== 429; i += 1) last = await gqlFrom(address, page);
    expect(last.res.status).toBe(429);
    expect(last.body.errors?.[0]?.extensions).toMatchObject({ code: "RATE_LIMITED" });
    expect(last.body.errors?.[0]?.extensions?.retryAfter).toBeGreaterThan(0);
    expect(Number(last.res.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await gqlFrom(newAddress(), page)).body.errors).toBeUndefined();
  });
});

describe("sealed subgraphs", () => {
  it("a subgraph port refuses a request without the gateway's secret (403 FORBIDDEN), even 2,000 aliases", async () => {
    const fields = Array.from({ length: 2000 }, (_, i) => `a${i}: listings(first: 100) { endCursor }`).join(
      " ",
    );
    const direct = await graphqlRequest(world.platform.subgraphUrl("storefront"), `{ ${fields} }`);
    expect(direct.res.status).toBe(403);
    expect(direct.body.errors?.[0]?.extensions).toMatchObject({ code: "FORBIDDEN" });
  });

  it("with the secret, the subgraph still applies the alias and cost limits itself", async () => {
    const secret = world.platform.serviceEnv("storefront").GATEWAY_SHARED_SECRET!;
    const headers = { "x-boxoffice-gateway-secret": secret };
    const fields = Array.from({ length: 2000 }, (_, i) => `a${i}: listings(first: 100) { endCursor }`).join(
      " ",
    );
    const aliases = await graphqlRequest(
      world.platform.subgraphUrl("storefront"),
      `{ ${fields} }`,
      {},
      headers,
    );
    expect(aliases.res.status).toBe(400);
    expect(aliases.body.errors?.[0]?.extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");
    const costly = `query ($n: Int!) { ${Array.from({ length: 30 }, (_, i) => `l${i}: listings(first: $n) { edges { node { id } } }`).join(" ")} }`;
    const cost = await graphqlRequest(world.platform.subgraphUrl("storefront"), costly, { n: 100 }, headers);
    expect(cost.body.errors?.[0]?.extensions).toMatchObject({ code: "COST_LIMIT_EXCEEDED" });
    const fine = await graphqlRequest(
      world.platform.subgraphUrl("storefront"),
      `{ listings(first: 2) { endCursor } }`,
      {},
      headers,
    );
    expect(fine.body.errors).toBeUndefined();
  });
});
