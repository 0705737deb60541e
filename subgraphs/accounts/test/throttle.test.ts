/**
 * Sign-in and sign-up throttling against real PostgreSQL (auth-throttle.ts): refused attempts are
 * RATE_LIMITED with retryAfter, run no password check and write nothing but the throttle's counters;
 * the owner signing in from an address they used before is not locked out by failures elsewhere.
 * Requests here reach accounts directly (no gateway secret), so the client address is the socket's.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createLogger } from "@boxoffice/service-kit";
import { createMigratedDatabase, graphqlRequest, type TestDatabase } from "@boxoffice/service-kit/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAccounts, type AccountsApp } from "../src/app.ts";
import { createAuthThrottle, delaySeconds, DEFAULT_THROTTLE } from "../src/auth-throttle.ts";
import { accountsEnv } from "../src/env.ts";

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
let db: TestDatabase;
let app: AccountsApp;

beforeAll(async () => {
  db = await createMigratedDatabase("accounts_throttle", dir);
  const env = accountsEnv({
    NODE_ENV: "test",
    DATABASE_URL: db.url,
    KAFKA_BROKERS: process.env.KAFKA_BROKERS,
    ACCOUNTS_PORT: "0",
    ACCOUNTS_SIGNIN_FREE_FAILURES: "3",
    ACCOUNTS_SIGNUP_PER_ADDRESS: "4",
  });
  app = await startAccounts(env, createLogger("accounts", "error"));
});
afterAll(async () => {
  await app?.stop();
  await db?.drop();
});

const PASSWORD = "correct horse battery staple";
const SIGN_UP = `mutation ($e: String!, $p: String!) { signUp(input: { email: $e, password: $p }) { user { id } } }`;
const SIGN_IN = `mutation ($e: String!, $p: String!) { signIn(input: { email: $e, password: $p }) { user { id } } }`;

async function count(table: string): Promise<number> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    return (await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM accounts.${table}`)).rows[0]!.n;
  } finally {
    await client.end();
  }
}

const gql = (query: string, variables: Record<string, unknown>) =>
  graphqlRequest(app.service.url, query, variables);

describe("delaySeconds", () => {
  it("is free up to the free failures, then doubles from 1 s up to the cap", () => {
    expect([3, 4, 5, 6, 7].map((n) => delaySeconds(n, 3, 900))).toEqual([0, 1, 2, 4, 8]);
    expect(delaySeconds(40, 3, 900)).toBe(900);
    expect(delaySeconds(10_000, 5, 900)).toBe(900);
  });
});

describe("signIn throttling", () => {
  it("slows down after 3 wrong passwords (RATE_LIMITED, retryAfter) without checking the password, even the right one", async () => {
    const email = `victim.${Date.now()}@example.test`;
    expect((await gql(SIGN_UP, { e: email, p: PASSWORD })).body.data?.signUp).toBeTruthy();
    for (let i = 0; i < 3; i += 1) {
      const { body } = await gql(SIGN_IN, { e: email, p: "wrong password guess" });
      expect(body.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    }
    // The 4th failure sets a 1 s wait; during it even the right password is refused, unchecked.
    await gql(SIGN_IN, { e: email, p: "wrong password guess" });
    const sessions = await count("sessions");
    const { body } = await gql(SIGN_IN, { e: email, p: PASSWORD });
    expect(body.data?.signIn ?? null).toBeNull();
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: "RATE_LIMITED", retryAfter: 1 });
    expect(await count("sessions")).toBe(sessions);
    // Once the wait is over the right password works, and clears the failures.
    await new Promise((r) => setTimeout(r, 1100));
    expect((await gql(SIGN_IN, { e: email, p: PASSWORD })).body.data?.signIn).toBeTruthy();
    const again = await gql(SIGN_IN, { e: email, p: "wrong password guess" });
    expect(again.body.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });

  it("an unknown e-mail address is throttled the same way (no account enumeration)", async () => {
    const email = `nobody.${Date.now()}@example.test`;
    const codes = [];
    for (let i = 0; i < 5; i += 1) {
      codes.push(
        (await gql(SIGN_IN, { e: email, p: "wrong password guess" })).body.errors?.[0]?.extensions?.code,
      );
    }
    expect(codes).toEqual([
      "UNAUTHENTICATED",
      "UNAUTHENTICATED",
      "UNAUTHENTICATED",
      "UNAUTHENTICATED",
      "RATE_LIMITED",
    ]);
  });
});

describe("the account-wide rule (direct, over the same table)", () => {
  it("refuses after 100 consecutive failures from many addresses, but not the owner's known address", async () => {
    const throttle = createAuthThrottle(db.url, "accounts", {
      ...DEFAULT_THROTTLE,
      accountFreeFailures: 100,
    });
    try {
      const account = `owner.${Date.now()}@example.test`;
      await throttle.signInSucceeded(account, "203.0.113.7"); // the owner's device
      for (let i = 0; i < 100; i += 1) await throttle.signInFailed(account, `198.51.100.${i}`);
      await expect(throttle.beforeSignIn(account, "192.0.2.1")).rejects.toMatchObject({
        extensions: { code: "RATE_LIMITED" },
      });
      await expect(throttle.beforeSignIn(account, "203.0.113.7")).resolves.toBeUndefined();
    } finally {
      await throttle.stop();
    }
  });
});

describe("signUp per address", () => {
  it("the 5th sign-up from one address within the hour is RATE_LIMITED and creates no user", async () => {
    // Earlier tests in this file signed up one user from this address.
    const results = [];
    for (let i = 0; i < 4; i += 1) {
      results.push(await gql(SIGN_UP, { e: `new${i}.${Date.now()}@example.test`, p: PASSWORD }));
    }
    const users = await count("users");
    const refused = results.filter((r) => r.body.errors?.[0]?.extensions?.code === "RATE_LIMITED");
    expect(refused).toHaveLength(1);
    expect(refused[0]!.body.errors?.[0]?.extensions?.retryAfter).toBeGreaterThan(3000);
    const { body } = await gql(SIGN_UP, { e: `late.${Date.now()}@example.test`, p: PASSWORD });
    expect(body.errors?.[0]?.extensions?.code).toBe("RATE_LIMITED");
    expect(await count("users")).toBe(users);
  });
});
