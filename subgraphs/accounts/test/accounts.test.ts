import path from "node:path";
import { fileURLToPath } from "node:url";
import { createVerifier } from "@boxoffice/auth-verify";
import { createLogger } from "@boxoffice/service-kit";
import { createMigratedDatabase, graphqlRequest, type TestDatabase } from "@boxoffice/service-kit/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAccounts, type AccountsApp } from "../src/app.ts";
import { accountsEnv } from "../src/env.ts";

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
let db: TestDatabase;
let app: AccountsApp;
let url: string;
const queries: string[] = [];

beforeAll(async () => {
  db = await createMigratedDatabase("accounts_test", dir);
  const env = accountsEnv({
    NODE_ENV: "test",
    DATABASE_URL: db.url,
    KAFKA_BROKERS: process.env.KAFKA_BROKERS,
    ACCOUNTS_PORT: "0",
    // Throttling has its own tests (throttle.test.ts); these sign up many users from one address.
    ACCOUNTS_SIGNUP_PER_ADDRESS: "10000",
  });
  app = await startAccounts(env, createLogger("accounts", "silent"), { onQuery: (sql) => queries.push(sql) });
  url = app.service.url;
});
afterAll(async () => {
  await app?.stop();
  await db?.drop();
});

async function sql<T extends Record<string, unknown>>(text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    return (await client.query<T>(text)).rows;
  } finally {
    await client.end();
  }
}

const SIGN_UP = `mutation ($email: String!, $password: String!) {
  signUp(input: { email: $email, password: $password }) { token expiresAt user { id email createdAt } }
}`;
const SIGN_IN = `mutation ($email: String!, $password: String!) {
  signIn(input: { email: $email, password: $password }) { token user { id } }
}`;
const PASSWORD = "correct horse battery staple";

let counter = 0;
function uniqueEmail(): string {
  counter += 1;
  return `user${counter}.${Date.now()}@example.test`;
}

async function signUp(email = uniqueEmail(), password = PASSWORD) {
  const { res, body } = await graphqlRequest(url, SIGN_UP, { email, password });
  const payload = body.data?.signUp as { token: string; user: { id: string; email: string } } | undefined;
  return { res, body, payload };
}

describe("signUp", () => {
  it("creates the user, sets an http-only session cookie, returns the token, and writes user.registered to the outbox", async () => {
    const email = uniqueEmail();
    const { res, payload } = await signUp(`  ${email.toUpperCase()} `);
    expect(payload?.user.email).toBe(email);
    const [cookie] = res.headers.getSetCookie();
    expect(cookie).toMatch(/^__Host-boxoffice_session=/);
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/Secure/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    expect(cookie).toMatch(/Path=\//);
    // Max-Age matches the token's remaining lifetime (8 h by default), in seconds.
    const maxAge = Number(/Max-Age=(\d+)/.exec(cookie!)?.[1]);
    expect(maxAge).toBeGreaterThan(28_790);
    expect(maxAge).toBeLessThanOrEqual(28_800);
    expect(cookie).not.toMatch(/Domain=/i);
    expect(cookie).toContain(payload?.token);
    const events = await sql<{ event_type: string; aggregate_id: string }>(
      `SELECT event_type, aggregate_id FROM accounts.event_outbox WHERE aggregate_id = '${payload?.user.id}'`,
    );
    expect(events).toEqual([{ event_type: "user.registered", aggregate_id: payload?.user.id }]);
  });

  it("refuses a duplicate e-mail (any case) with BAD_USER_INPUT and writes nothing", async () => {
    const email = uniqueEmail();
    await signUp(email);
    const before = await sql<{ users: string; events: string }>(
      "SELECT (SELECT count(*) FROM accounts.users) AS users, (SELECT count(*) FROM accounts.event_outbox) AS events",
    );
    const { body } = await signUp(email.toUpperCase());
    expect(body.errors?.[0]).toMatchObject({
      message: "An account with this e-mail address already exists.",
      extensions: { code: "BAD_USER_INPUT", field: "input.email" },
    });
    const after = await sql(
      "SELECT (SELECT count(*) FROM accounts.users) AS users, (SELECT count(*) FROM accounts.event_outbox) AS events",
    );
    expect(after).toEqual(before);
  });

  it.each([
    ["a weak (short) password", uniqueEmail(), "short", "input.password"],
    [
      "a password equal to the e-mail",
      "same.as.password@example.test",
      "same.as.password@example.test",
      "input.password",
    ],
    ["a password of one repeated character", uniqueEmail(), "aaaaaaaaaaaaaaaa", "input.password"],
    ["a malformed e-mail", "not-an-email", PASSWORD, "input.email"],
    ["a 10 KB e-mail", `${"a".repeat(10_240)}@example.test`, PASSWORD, "input.email"],
    ["a 10 KB password", uniqueEmail(), "x".repeat(10_240), "input.password"],
  ])("refuses %s with BAD_USER_INPUT and writes nothing", async (_name, email, password, field) => {
    const before = await sql(
      "SELECT (SELECT count(*) FROM accounts.users) AS users, (SELECT count(*) FROM accounts.event_outbox) AS events",
    );
    const { res, body } = await signUp(email, password);
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field });
    expect(res.headers.getSetCookie()).toEqual([]);
    const after = await sql(
      "SELECT (SELECT count(*) FROM accounts.users) AS users, (SELECT count(*) FROM accounts.event_outbox) AS events",
    );
    expect(after).toEqual(before);
  });
});

describe("signIn, me, signOut", () => {
  it("signs in with the password; me works with only the cookie and with only a bearer token", async () => {
    const email = uniqueEmail();
    const { payload } = await signUp(email);
    const { res, body } = await graphqlRequest(url, SIGN_IN, { email, password: PASSWORD });
    const token = (body.data?.signIn as { token: string }).token;
    const cookie = res.headers.getSetCookie()[0]!.split(";")[0]!;
    const viaCookie = await graphqlRequest(url, "{ me { id email } }", {}, { cookie });
    expect(viaCookie.body.data).toEqual({ me: { id: payload?.user.id, email } });
    const viaBearer = await graphqlRequest(url, "{ me { id } }", {}, { authorization: `Bearer ${token}` });
    expect(viaBearer.body.data).toEqual({ me: { id: payload?.user.id } });
    const anonymous = await graphqlRequest(url, "{ me { id } }");
    expect(anonymous.body.data).toEqual({ me: null });
  });

  it("gives an unknown e-mail and a wrong password the same UNAUTHENTICATED answer", async () => {
    const email = uniqueEmail();
    await signUp(email);
    const wrong = await graphqlRequest(url, SIGN_IN, { email, password: "wrong password, sorry" });
    const unknown = await graphqlRequest(url, SIGN_IN, { email: uniqueEmail(), password: PASSWORD });
    const malformed = await graphqlRequest(url, SIGN_IN, { email: "nope", password: PASSWORD });
    for (const { body, res } of [wrong, unknown, malformed]) {
      expect(body.errors).toEqual([
        expect.objectContaining({
          message: "Invalid e-mail or password.",
          extensions: { code: "UNAUTHENTICATED" },
        }),
      ]);
      expect(res.headers.getSetCookie()).toEqual([]);
    }
  });

  it("signOut revokes the session, clears the cookie and publishes session.revoked; the old token stops working", async () => {
    const { payload } = await signUp();
    const bearer = { authorization: `Bearer ${payload!.token}` };
    const out = await graphqlRequest(url, "mutation { signOut }", {}, bearer);
    expect(out.body.data).toEqual({ signOut: true });
    expect(out.res.headers.getSetCookie()[0]).toMatch(/Max-Age=0/);
    expect((await graphqlRequest(url, "{ me { id } }", {}, bearer)).body.data).toEqual({ me: null });
    const [revoked] = await sql<{ event_type: string; payload: { data: { userId: string } } }>(
      `SELECT event_type, payload FROM accounts.event_outbox WHERE event_type = 'session.revoked' AND payload->'data'->>'userId' = '${payload!.user.id}'`,
    );
    expect(revoked?.payload.data.userId).toBe(payload!.user.id);
    // A second sign-out with the revoked token has no session to revoke.
    expect((await graphqlRequest(url, "mutation { signOut }", {}, bearer)).body.data).toEqual({
      signOut: false,
    });
  });

  it("an expired or forged cookie is anonymous here, so the user can sign in again", async () => {
    const forged = { cookie: "__Host-boxoffice_session=eyJhbGciOiJFZERTQSJ9.e30.c2ln" };
    expect((await graphqlRequest(url, "{ me { id } }", {}, forged)).body.data).toEqual({ me: null });
    const email = uniqueEmail();
    await signUp(email);
    const again = await graphqlRequest(url, SIGN_IN, { email, password: PASSWORD }, forged);
    expect(again.body.errors).toBeUndefined();
  });
});

describe("User entity", () => {
  it("_entities resolves User by @key id; unknown and malformed ids are null", async () => {
    const { payload } = await signUp();
    const { body } = await graphqlRequest(
      url,
      `query ($r: [_Any!]!) { _entities(representations: $r) { ... on User { id email } } }`,
      {
        r: [
          { __typename: "User", id: payload!.user.id },
          { __typename: "User", id: "00000000-0000-4000-8000-000000000000" },
          { __typename: "User", id: "not-a-uuid" },
        ],
      },
    );
    // Anonymous: the entity resolves, its e-mail is private.
    expect(body.data).toEqual({ _entities: [{ id: payload!.user.id, email: null }, null, null] });
    const own = await graphqlRequest(
      url,
      `query ($r: [_Any!]!) { _entities(representations: $r) { ... on User { id email } } }`,
      { r: [{ __typename: "User", id: payload!.user.id }] },
      { authorization: `Bearer ${payload!.token}` },
    );
    expect(own.body.data).toEqual({ _entities: [{ id: payload!.user.id, email: payload!.user.email }] });
  });

  it("50 references cost one SQL query (DataLoader batching)", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1) ids.push((await signUp()).payload!.user.id);
    const representations = Array.from({ length: 50 }, (_, i) => ({
      __typename: "User",
      id: ids[i % ids.length],
    }));
    queries.length = 0;
    const { body } = await graphqlRequest(
      url,
      `query ($r: [_Any!]!) { _entities(representations: $r) { ... on User { id email } } }`,
      { r: representations },
    );
    expect((body.data?._entities as unknown[]).length).toBe(50);
    expect(queries.filter((q) => /FROM "accounts"\."users"/.test(q))).toHaveLength(1);
  });

  it("serves its JWKS; a token it issued verifies against that JWKS", async () => {
    const { payload } = await signUp();
    const jwks = (await (await fetch(url.replace("/graphql", "/.well-known/jwks.json"))).json()) as {
      keys: unknown[];
    };
    expect(jwks.keys.length).toBeGreaterThan(0);
    const verifier = createVerifier({
      issuer: "boxoffice-accounts",
      audience: "boxoffice",
      keys: {
        jwks: jwks as Parameters<typeof createVerifier>[0]["keys"] extends { jwks: infer J } ? J : never,
      },
    });
    const principal = await verifier.verifyToken(payload!.token);
    expect(principal.userId).toBe(payload!.user.id);
  });
});
