/**
 * Read-your-writes through the gateway: a mutation that needs an id another service created a
 * moment ago (createOrder right after createTicket, payForOrder right after createOrder) never
 * answers NOT_FOUND while that id is still on its way through the event path; it waits (bounded) and
 * at worst answers SERVICE_UNAVAILABLE `retryable: true`, `reason: NOT_YET_REPLICATED`, and the
 * same request then succeeds. An id nobody created recently is still NOT_FOUND.
 *
 * Consistency tokens: a mutation's `consistencyToken`, passed as `waitFor` to a query of another
 * service's read model, makes that query answer only once the write is reflected there (bounded, then
 * the same retryable NOT_YET_REPLICATED); a malformed token is BAD_USER_INPUT.
 */
import { randomUUID } from "node:crypto";
import { tokenOf } from "@boxoffice/service-kit";
import { describe, expect, it } from "vitest";
import { eventually, PAY, uniqueWord, type TestUser } from "../support/client.ts";
import { world } from "./platform.ts";

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

/** The first error's code, retryable, reason and field, or undefined when the answer has no error. */
function problem(body: { errors?: readonly { extensions?: Record<string, unknown> }[] }) {
  const ext = body.errors?.[0]?.extensions;
  return ext ? { code: ext.code, retryable: ext.retryable, reason: ext.reason, field: ext.field } : undefined;
}

const LIST = `mutation ($t: String!) {
  createTicket(input: { title: $t, priceMinor: 3100, currency: "EUR" }) { id consistencyToken }
}`;
const LISTINGS = `query ($s: String!, $w: ConsistencyToken) {
  listings(filter: { search: $s }, waitFor: $w) { edges { node { id title availability } } }
}`;
const HISTORY = `query ($w: ConsistencyToken) {
  me { orders(waitFor: $w) { orderId status ticketTitle } }
}`;

describe("consistency tokens: a read given a mutation's token reflects that write on the first read", () => {
  it("lists, orders and pays, each read after a write sees it at once: listings, ticket, history, myOrders", async () => {
    const { gql, newUser } = world.client;
    const seller = await newUser("seller");
    const buyer = await newUser("buyer");
    const word = uniqueWord();

    const listed = await gql(LIST, { t: `Token ${word}` }, seller.cookie);
    const ticket = listed.body.data?.createTicket as { id: string; consistencyToken: string };
    expect(ticket.consistencyToken).toMatch(/^ct1\./);
    // The storefront's read model, fed by ticket.created: the listing is there on the first read.
    const afterListing = await gql(LISTINGS, { s: word, w: ticket.consistencyToken });
    expect(problem(afterListing.body)).toBeUndefined();
    expect(afterListing.body.data?.listings).toEqual({
      edges: [{ node: { id: ticket.id, title: `Token ${word}`, availability: "AVAILABLE" } }],
    });

    const ordered = await sendNow(
      `mutation ($t: ID!) { createOrder(ticketId: $t) { id status consistencyToken } }`,
      { t: ticket.id },
      buyer,
    );
    const order = ordered.at(-1)?.data as { id: string; status: string; consistencyToken: string };
    expect(order.status).toBe("PENDING");
    // order.created reaches three read models: the storefront (availability, history) and tickets (status).
    const reserved = await gql(LISTINGS, { s: word, w: order.consistencyToken });
    expect(reserved.body.data?.listings).toEqual({
      edges: [{ node: { id: ticket.id, title: `Token ${word}`, availability: "RESERVED" } }],
    });
    const history = await gql(HISTORY, { w: order.consistencyToken }, buyer.cookie);
    expect(problem(history.body)).toBeUndefined();
    expect(history.body.data?.me).toEqual({
      orders: [{ orderId: order.id, status: "PENDING", ticketTitle: `Token ${word}` }],
    });
    const ticketNow = await gql(
      `query ($id: ID!, $w: ConsistencyToken) { ticket(id: $id, waitFor: $w) { status version } }`,
      { id: ticket.id, w: order.consistencyToken },
    );
    expect(ticketNow.body.data?.ticket).toEqual({ status: "RESERVED", version: 2 });

    const paid = await sendNow(
      `mutation ($o: ID!, $t: String!, $k: String!) {
        payForOrder(orderId: $o, paymentToken: $t, idempotencyKey: $k) { status consistencyToken }
      }`,
      { o: order.id, t: "tok_success", k: randomUUID() },
      buyer,
    );
    const payment = paid.at(-1)?.data as { status: string; consistencyToken: string };
    expect(payment.status).toBe("SUCCEEDED");
    // payment.succeeded → orders completes the order → order.completed → the storefront: the paid
    // order is COMPLETED in the buyer's history and in myOrders on the first read.
    const paidHistory = await gql(HISTORY, { w: payment.consistencyToken }, buyer.cookie);
    expect(problem(paidHistory.body)).toBeUndefined();
    expect(paidHistory.body.data?.me).toEqual({
      orders: [{ orderId: order.id, status: "COMPLETED", ticketTitle: `Token ${word}` }],
    });
    const mine = await gql(
      `query ($w: ConsistencyToken) { myOrders(waitFor: $w) { id status version } }`,
      { w: payment.consistencyToken },
      buyer.cookie,
    );
    expect(mine.body.data?.myOrders).toEqual([{ id: order.id, status: "COMPLETED", version: 2 }]);
  });

  it("a token nobody issued is BAD_USER_INPUT on the waitFor argument, on every read model", async () => {
    const { gql, newUser } = world.client;
    const buyer = await newUser("buyer");
    for (const bad of [
      "",
      "order:0193b1c2-0000-7000-8000-000000000000:1",
      "ct1.!!",
      "ct1.",
      `ct1.${"A".repeat(3000)}`,
      42,
    ]) {
      const storefront = await gql(LISTINGS, { s: "anything", w: bad });
      expect(problem(storefront.body), JSON.stringify(bad)).toMatchObject({
        code: "BAD_USER_INPUT",
        field: "waitFor",
      });
      expect(storefront.body.data ?? null).toBeNull();
      const orders = await gql(
        `query ($w: ConsistencyToken) { myOrders(waitFor: $w) { id } }`,
        { w: bad },
        buyer.cookie,
      );
      expect(problem(orders.body)).toMatchObject({ code: "BAD_USER_INPUT", field: "waitFor" });
    }
  });

  it("a token of a write that never happens: after the bounded wait a typed, retryable NOT_YET_REPLICATED; nothing changed", async () => {
    const { gql, newUser } = world.client;
    const seller = await newUser("seller");
    const buyer = await newUser("buyer");
    const word = uniqueWord();
    const listed = await gql(LIST, { t: `Never ${word}` }, seller.cookie);
    const ticket = listed.body.data?.createTicket as { id: string; consistencyToken: string };
    await gql(LISTINGS, { s: word, w: ticket.consistencyToken });
    // Well-formed, but version 999 of this ticket is never written.
    const impossible = tokenOf("ticket", ticket.id, 999);

    const listings = await gql(LISTINGS, { s: word, w: impossible });
    expect(problem(listings.body)).toEqual({
      code: "SERVICE_UNAVAILABLE",
      retryable: true,
      reason: "NOT_YET_REPLICATED",
      field: undefined,
    });
    expect(listings.body.data ?? null).toBeNull();
    const history = await gql(HISTORY, { w: impossible }, buyer.cookie);
    expect(problem(history.body)).toMatchObject({
      code: "SERVICE_UNAVAILABLE",
      reason: "NOT_YET_REPLICATED",
    });
    const mine = await gql(
      `query ($w: ConsistencyToken) { myOrders(waitFor: $w) { id } }`,
      { w: impossible },
      buyer.cookie,
    );
    expect(problem(mine.body)).toMatchObject({ code: "SERVICE_UNAVAILABLE", reason: "NOT_YET_REPLICATED" });

    // Nothing changed: the listing is as it was, the buyer has no orders.
    const after = await gql(LISTINGS, { s: word });
    expect(after.body.data?.listings).toEqual({
      edges: [{ node: { id: ticket.id, title: `Never ${word}`, availability: "AVAILABLE" } }],
    });
    const none = await gql(HISTORY, {}, buyer.cookie);
    expect(none.body.data?.me).toEqual({ orders: [] });
  });

  it("the storefront says how fresh its read model is: caught up after the writes above, per consumer group", async () => {
    const freshness = await eventually(
      async () =>
        (
          await world.client.gql(
            `{ storefrontFreshness { ready lagEvents lagMs consumers { groupId ready lagEvents lagMs } } }`,
          )
        ).body.data?.storefrontFreshness as
          { ready: boolean; lagEvents: number; lagMs: number; consumers: { groupId: string }[] } | undefined,
      (f) => f?.ready === true && f.lagEvents === 0,
    );
    expect(freshness).toMatchObject({ ready: true, lagEvents: 0, lagMs: 0 });
    expect(freshness?.consumers).toHaveLength(1);
    expect(freshness?.consumers[0]?.groupId).toMatch(/storefront\.read-model$/);
  });
});
