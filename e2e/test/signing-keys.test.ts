/**
 * Session keys travel as events (issue 15): with accounts dead for longer than the JWKS cache age, a
 * signed-in buyer still lists tickets, orders and pays, and a subgraph restarted during the outage
 * still accepts the session; a key rotation keeps old tokens working until the old key is retired,
 * and the retirement refuses them in every subgraph.
 */
import { randomUUID } from "node:crypto";
import { exportSigningKey, generateSigningKey } from "@boxoffice/auth-verify";
import { graphqlRequest } from "@boxoffice/service-kit/testing";
import { SUBGRAPH_DECLARATIONS } from "@boxoffice/topology";
import { describe, expect, it } from "vitest";
import { eventually, PASSWORD, sql, usePlatform } from "./support/client.ts";

/** Subgraphs that verify sessions: those that consume the signing keys accounts publishes. */
const VERIFIERS = SUBGRAPH_DECLARATIONS.filter((s) => s.consumes.includes("signing-key")).map((s) => s.name);
/**
 * The JWKS cache age in force in this platform, seconds; the outage below lasts longer. (Each test
 * restarts subgraphs, tens of seconds on a loaded machine, hence the longer per-test timeouts.)
 */
const JWKS_CACHE_SECONDS = 1;

const [first, second] = await Promise.all([
  generateSigningKey({ extractable: true }),
  generateSigningKey({ extractable: true }),
]);
const firstJwk = JSON.stringify(await exportSigningKey(first));
const secondJwk = JSON.stringify(await exportSigningKey(second));

const ctx = usePlatform({
  env: { AUTH_JWKS_CACHE_MAX_AGE_SECONDS: String(JWKS_CACHE_SECONDS) },
  processEnv: { accounts: { AUTH_SIGNING_KEY: firstJwk } },
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The status each verifying subgraph answers for a bearer token (200 accepted, 401 refused). */
async function statusEverywhere(token: string): Promise<Record<string, number>> {
  const entries = await Promise.all(
    VERIFIERS.map(async (name) => {
      const { res } = await graphqlRequest(
        ctx.platform.subgraphUrl(name),
        "{ __typename }",
        {},
        {
          authorization: `Bearer ${token}`,
          // Subgraphs answer only the gateway (sealed): send its shared secret, as it does.
          "x-boxoffice-gateway-secret": ctx.platform.serviceEnv(name).GATEWAY_SHARED_SECRET ?? "",
        },
      );
      return [name, res.status] as const;
    }),
  );
  return Object.fromEntries(entries);
}

const everywhere = (status: number) => Object.fromEntries(VERIFIERS.map((name) => [name, status]));

/** The published kids in each verifying subgraph's own table. */
async function replicatedKids(): Promise<Record<string, string[]>> {
  const entries = await Promise.all(
    VERIFIERS.map(async (name) => {
      const rows = await sql<{ kid: string }>(
        ctx.platform,
        `SELECT kid FROM "${name}".signing_keys WHERE status = 'PUBLISHED' ORDER BY kid`,
      );
      return [name, rows.map((r) => r.kid)] as const;
    }),
  );
  return Object.fromEntries(entries);
}

/** Waits until every verifier's table publishes exactly `kids`; fails with the laggards' logs. */
async function expectReplicated(kids: string[]): Promise<void> {
  const want = [...kids].sort();
  const seen = await eventually(
    replicatedKids,
    (k) => VERIFIERS.every((n) => JSON.stringify(k[n]) === JSON.stringify(want)),
    20_000,
  );
  const lagging = VERIFIERS.filter((n) => JSON.stringify(seen[n]) !== JSON.stringify(want));
  const logs = lagging.map(
    (n) =>
      `${n}:\n${
        ctx.platform.processes
          .find((p) => p.name === n)
          ?.output.slice(-30)
          .join("") ?? ""
      }`,
  );
  expect(seen, logs.join("\n")).toEqual(Object.fromEntries(VERIFIERS.map((name) => [name, want])));
}

/** Signs a user up through the gateway; returns the id, the cookie and the bearer token. */
async function signUp(label: string) {
  const email = `${label}.${Date.now()}.${Math.random().toString(36).slice(2)}@example.test`;
  const { res, body } = await ctx.client.gql(
    `mutation ($e: String!, $p: String!) { signUp(input: { email: $e, password: $p }) { token user { id } } }`,
    { e: email, p: PASSWORD },
  );
  const payload = body.data?.signUp as { token: string; user: { id: string } } | undefined;
  if (!payload) throw new Error(`signUp failed: ${JSON.stringify(body)}`);
  return { id: payload.user.id, token: payload.token, cookie: res.headers.getSetCookie()[0]!.split(";")[0]! };
}

describe("signing keys replicated as events", () => {
  it("with accounts killed for longer than the JWKS cache age, a signed-in buyer lists, orders and pays; a subgraph restarted meanwhile accepts the session", async () => {
    const { platform, client } = ctx;
    // Every verifier holds accounts' key in its own table (what makes the rest possible).
    await expectReplicated([first.kid]);
    const seller = await signUp("seller");
    const buyer = await signUp("buyer");
    const ticketId = await client.listTicket(seller, "Outage night");

    await platform.signalService("accounts", "SIGKILL");
    const outageStart = Date.now();
    try {
      await sleep(JWKS_CACHE_SECONDS * 1000 + 1500);
      const listed = await client.gql(`{ tickets(first: 50) { id } }`, {}, buyer.cookie);
      expect(listed.body.errors).toBeUndefined();
      expect((listed.body.data?.tickets as { id: string }[]).map((t) => t.id)).toContain(ticketId);

      const ordered = await client.createOrder(ticketId, buyer);
      expect(ordered.body.errors).toBeUndefined();
      const orderId = (ordered.body.data?.createOrder as { id: string }).id;
      const paid = await client.pay(orderId, "tok_success", randomUUID(), buyer);
      expect(paid.body.errors).toBeUndefined();
      expect(paid.body.data?.payForOrder).toMatchObject({ status: "SUCCEEDED" });

      // A subgraph restarted during the outage verifies from its table: no JWKS to fetch.
      await platform.stopService("orders");
      await platform.startService("orders");
      expect(
        await eventually(
          () => client.orderStatus(orderId, buyer),
          (s) => s === "COMPLETED",
        ),
      ).toBe("COMPLETED");
      expect(await statusEverywhere(buyer.token)).toEqual(everywhere(200));
      console.log(`accounts was down for ${((Date.now() - outageStart) / 1000).toFixed(1)} s`);
    } finally {
      await platform.startService("accounts");
    }
  }, 240_000);

  it("rotation: old tokens keep working next to new ones; retirement refuses them in every subgraph", async () => {
    const { platform, client } = ctx;
    const before = await signUp("before-rotation");
    expect(await statusEverywhere(before.token)).toEqual(everywhere(200));

    // Rotate: the second key signs, the first stays published as a previous key.
    await platform.stopService("accounts");
    await platform.startService("accounts", {
      AUTH_SIGNING_KEY: secondJwk,
      AUTH_PREVIOUS_PUBLIC_KEYS: JSON.stringify([first.publicJwk]),
    });
    const after = await signUp("after-rotation");
    expect(await statusEverywhere(before.token)).toEqual(everywhere(200));
    expect(await statusEverywhere(after.token)).toEqual(everywhere(200));
    await expectReplicated([first.kid, second.kid]);

    // Retire the first key: accounts restarts without it.
    await platform.stopService("accounts");
    await platform.startService("accounts", { AUTH_PREVIOUS_PUBLIC_KEYS: "[]" });
    const retiredAt = performance.now();
    expect(
      await eventually(
        () => statusEverywhere(before.token),
        (s) => Object.values(s).every((v) => v === 401),
      ),
    ).toEqual(everywhere(401));
    console.log(
      `retirement: refused by all four subgraphs ${(performance.now() - retiredAt).toFixed(0)} ms after accounts was ready`,
    );
    expect(await statusEverywhere(after.token)).toEqual(everywhere(200));

    // Through the gateway: the old session is refused with the typed error, the new one works.
    const refused = await client.gql(`{ tickets(first: 1) { id } }`, {}, before.cookie);
    expect(refused.res.status).toBe(401);
    expect(refused.body.errors?.[0]?.extensions).toMatchObject({
      code: "UNAUTHENTICATED",
      reason: "UNKNOWN_KID",
    });
    const accepted = await client.gql(`{ tickets(first: 1) { id } me { id } }`, {}, after.cookie);
    expect(accepted.body.errors).toBeUndefined();
    expect(accepted.body.data?.me).toEqual({ id: after.id });
  }, 240_000);
});
