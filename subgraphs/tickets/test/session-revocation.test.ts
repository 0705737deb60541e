/**
 * End to end through the real event path: accounts' signOut → its outbox → relay → Kafka
 * (`boxoffice.accounts.v1`) → the tickets `session-denylist` consumer → `revoked_sessions` → the
 * verifier's `isRevoked`. The delay from signOut to the first refusal is printed (a benchmark, not an
 * assertion: CONVENTIONS.md); the test polls with a deadline.
 */
import { graphqlRequest } from "@boxoffice/service-kit/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  accountsUrl,
  gql,
  signOut,
  signUp,
  startHarness,
  waitUntil,
  type Harness,
  type TestUser,
} from "./support/harness.ts";

let harness: Harness;

beforeAll(async () => {
  harness = await startHarness();
  await waitUntil(() => harness.app.denylist.status().ready, 30_000, "denylist consumer joined");
});
afterAll(async () => {
  await harness?.stop();
});

const PROBE = "{ tickets(first: 1) { id } }";

async function isRefused(user: TestUser): Promise<boolean> {
  const { body } = await gql(harness, PROBE, {}, user);
  return body.errors?.[0]?.extensions?.code === "UNAUTHENTICATED";
}

describe("session revocation", () => {
  it("after signOut, the session's token is refused by tickets with UNAUTHENTICATED (REVOKED); other sessions keep working", async () => {
    const delays: number[] = [];
    for (let i = 0; i < 6; i += 1) {
      const user = await signUp();
      // A second session of the same user (signIn), which signOut of the first must not touch.
      const { body: signedIn } = await graphqlRequest(
        accountsUrl(),
        `mutation ($email: String!) { signIn(input: { email: $email, password: "correct horse battery staple" }) { token } }`,
        { email: user.email },
      );
      const second = { ...user, token: (signedIn.data?.signIn as { token: string }).token };
      expect((await gql(harness, PROBE, {}, user)).body.errors).toBeUndefined();

      const start = performance.now();
      await signOut(user);
      await waitUntil(() => isRefused(user), 10_000, "revoked token refused");
      delays.push(performance.now() - start);

      const refused = await gql(harness, PROBE, {}, user);
      expect(refused.res.status).toBe(401);
      expect(refused.body.errors?.[0]?.extensions).toMatchObject({
        code: "UNAUTHENTICATED",
        reason: "REVOKED",
      });
      expect((await gql(harness, PROBE, {}, second)).body.errors).toBeUndefined();
      const [row] = await harness.sql(
        "SELECT user_id::text FROM tickets.revoked_sessions WHERE session_id = $1",
        [user.sessionId],
      );
      expect(row).toEqual({ user_id: user.id });
    }
    const sorted = [...delays].sort((a, b) => a - b);
    console.log(
      `revocation delay signOut → refused by tickets (ms, n=${delays.length}, first includes warm-up): ` +
        `${delays.map((d) => d.toFixed(0)).join(", ")}; median ${sorted[Math.floor(sorted.length / 2)]?.toFixed(0)}, max ${sorted.at(-1)?.toFixed(0)}`,
    );
  });
});
