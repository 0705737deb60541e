/**
 * Read-your-writes through the gateway: a mutation that needs an id another service created a
 * moment ago (createOrder right after createTicket, payForOrder right after createOrder) never
 * answers NOT_FOUND while that id is still on its way through the event path; it waits (bounded) and
 * at worst answers SERVICE_UNAVAILABLE `retryable: true`, `reason: NOT_YET_REPLICATED`, and the
 * same request then succeeds. An id nobody created recently is still NOT_FOUND.
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { PAY, usePlatform, type TestUser } from "./support/client.ts";

const world = usePlatform();

const CREATE = `mutation ($t: ID!) { createOrder(ticketId: $t) { id status } }`;

interface Answer {
  data: unknown;
  code: string | undefined;
  retryable: unknown;
  reason: unknown;
}

/** Sends `query` at once; repeats it only while the answer is the retryable "not yet" (counted). */
async function sendNow(query: string, variables: Record<string, unknown>, user: TestUser) {
  const answers: Answer[] = [];
  for (;;) {
    const { body } = await world.client.gql(query, variables, user.cookie);
    const error = body.errors?.[0];
    const answer = {
      data: body.data ? Object.values(body.data)[0] : null,
      code: error?.extensions?.code as string | undefined,
      retryable: error?.extensions?.retryable,
      reason: error?.extensions?.reason,
    };
    answers.push(answer);
    if (!(answer.code === "SERVICE_UNAVAILABLE" && answer.retryable === true) || answers.length > 20) {
      return answers;
    }
  }
}

describe("read-your-writes across services, through the gateway", () => {
  it("orders a ticket the moment it is listed and pays the order the moment it is created: never NOT_FOUND", async () => {
    const seller = await world.client.newUser("seller");
    const buyer = await world.client.newUser("buyer");
    for (let i = 0; i < 10; i += 1) {
      const ticketId = await world.client.listTicket(seller, `Straight away ${i}`, 2_000 + i);
      const ordered = await sendNow(CREATE, { t: ticketId }, buyer);
      for (const early of ordered.slice(0, -1)) {
        expect(early).toMatchObject({
          code: "SERVICE_UNAVAILABLE",
          retryable: true,
          reason: "NOT_YET_REPLICATED",
        });
      }
      const order = ordered.at(-1)?.data as { id: string; status: string } | null;
      expect(ordered.at(-1)?.code, JSON.stringify(ordered)).toBeUndefined();
      expect(order?.status).toBe("PENDING");

      const paid = await sendNow(PAY, { o: order?.id, t: "tok_success", k: randomUUID() }, buyer);
      for (const early of paid.slice(0, -1)) {
        expect(early).toMatchObject({
          code: "SERVICE_UNAVAILABLE",
          retryable: true,
          reason: "NOT_YET_REPLICATED",
        });
      }
      expect(paid.at(-1)?.code, JSON.stringify(paid)).toBeUndefined();
      expect(paid.at(-1)?.data).toMatchObject({ status: "SUCCEEDED" });
    }
  });

  it("an id nobody created recently is NOT_FOUND at once (no wait for what cannot arrive)", async () => {
    const buyer = await world.client.newUser("buyer");
    // A UUIDv7 from 2025 and a random (v4) UUID: neither can be on its way.
    for (const id of ["0195b7c4-1111-7000-8000-000000000000", randomUUID()]) {
      const ordered = await sendNow(CREATE, { t: id }, buyer);
      expect(ordered).toHaveLength(1);
      expect(ordered[0]?.code).toBe("NOT_FOUND");
      const paid = await sendNow(PAY, { o: id, t: "tok_success", k: randomUUID() }, buyer);
      expect(paid).toHaveLength(1);
      expect(paid[0]?.code).toBe("NOT_FOUND");
    }
  });
});
