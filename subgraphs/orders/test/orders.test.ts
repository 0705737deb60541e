/**
 * The GraphQL API of the orders subgraph against real PostgreSQL, Kafka (ticket replica fed by real
 * ticket events) and accounts (real session tokens): createOrder with its refusals, cancelOrder,
 * order(id), myOrders, and that a refused request writes nothing.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createOrder,
  gql,
  listTickets,
  ORDER_FIELDS,
  outboxOf,
  signUp,
  startHarness,
  ticketEvent,
  writeCounts,
  type Harness,
  type OrderView,
  type TestUser,
} from "./support/harness.ts";

let harness: Harness;
let seller: TestUser;
let buyer: TestUser;
let other: TestUser;

beforeAll(async () => {
  harness = await startHarness();
  [seller, buyer, other] = await Promise.all([signUp(), signUp(), signUp()]);
});
afterAll(async () => {
  await harness?.stop();
});

const CREATE = `mutation ($ticketId: ID!) { createOrder(ticketId: $ticketId) { ${ORDER_FIELDS} } }`;
const CANCEL = `mutation ($id: ID!) { cancelOrder(id: $id) { ${ORDER_FIELDS} } }`;
const ORDER = `query ($id: ID!) { order(id: $id) { ${ORDER_FIELDS} } }`;
const MY_ORDERS = `query ($first: Int, $after: String) { myOrders(first: $first, after: $after) { id } }`;

describe("createOrder", () => {
  it("reserves a listed ticket: PENDING, version 1, the replica's price, expiry 15 minutes ahead, order.created with the contract's payload", async () => {
    const [ticketId] = await listTickets(harness, seller.id, 1, { priceMinor: 12_345, currency: "GBP" });
    const before = Date.now();
    const { body } = await gql(harness, CREATE, { ticketId: ticketId!.toUpperCase() }, buyer);
    expect(body.errors).toBeUndefined();
    const order = body.data?.createOrder as OrderView;
    expect(order).toMatchObject({
      status: "PENDING",
      cancellationReason: null,
      amountMinor: 12_345,
      currency: "GBP",
      version: 1,
      buyer: { id: buyer.id },
      ticket: { id: ticketId },
    });
    const expiresIn = Date.parse(order.expiresAt) - before;
    expect(expiresIn).toBeGreaterThan(890_000);
    expect(expiresIn).toBeLessThanOrEqual(900_000 + (Date.now() - before));
    const events = await outboxOf(harness, order.id);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      event_type: "order.created",
      aggregate_version: "1",
      payload: { producer: "orders", aggregateType: "order" },
    });
    expect(events[0]?.payload.data).toEqual({
      orderId: order.id,
      ticketId,
      buyerId: buyer.id,
      status: "PENDING",
      amountMinor: 12_345,
      currency: "GBP",
      expiresAt: order.expiresAt,
      version: 1,
    });
  });

  it("keeps the amount of an order placed before the ticket's price changed; new orders use the new price", async () => {
    const [ticketId] = await listTickets(harness, seller.id, 1, { priceMinor: 1_000 });
    const first = await createOrder(harness, buyer, ticketId!);
    await gql(harness, CANCEL, { id: first.id }, buyer);
    await harness.deliver("tickets", [
      ticketEvent({ ticketId: ticketId!, sellerId: seller.id, version: 2, priceMinor: 2_000 }),
    ]);
    const second = await createOrder(harness, other, ticketId!);
    expect(second.amountMinor).toBe(2_000);
    const { body } = await gql(harness, ORDER, { id: first.id }, buyer);
    expect(body.data?.order).toMatchObject({ amountMinor: 1_000 });
  });

  it("refuses an anonymous caller with UNAUTHENTICATED, writing nothing", async () => {
    const [ticketId] = await listTickets(harness, seller.id);
    const before = await writeCounts(harness);
    const { body } = await gql(harness, CREATE, { ticketId });
    expect(body.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    expect(await writeCounts(harness)).toEqual(before);
  });

  it("refuses a malformed id (BAD_USER_INPUT) and an unknown ticket (NOT_FOUND), writing nothing", async () => {
    const before = await writeCounts(harness);
    const malformed = await gql(harness, CREATE, { ticketId: "not-a-uuid" }, buyer);
    expect(malformed.body.errors?.[0]?.extensions).toMatchObject({
      code: "BAD_USER_INPUT",
      field: "ticketId",
    });
    const unknown = await gql(harness, CREATE, { ticketId: randomUUID() }, buyer);
    expect(unknown.body.errors?.[0]).toMatchObject({
      message: "No ticket with this id.",
      extensions: { code: "NOT_FOUND" },
    });
    expect(await writeCounts(harness)).toEqual(before);
  });

  it("refuses buying your own ticket with FORBIDDEN, writing nothing", async () => {
    const [ticketId] = await listTickets(harness, seller.id);
    const before = await writeCounts(harness);
    const { body } = await gql(harness, CREATE, { ticketId }, seller);
    expect(body.errors?.[0]).toMatchObject({
      message: "You cannot buy your own ticket.",
      extensions: { code: "FORBIDDEN" },
    });
    expect(await writeCounts(harness)).toEqual(before);
  });

  it("refuses a ticket already in a pending order with CONFLICT TICKET_RESERVED; after cancelling, it can be ordered again", async () => {
    const [ticketId] = await listTickets(harness, seller.id);
    const first = await createOrder(harness, buyer, ticketId!);
    const before = await writeCounts(harness);
    for (const user of [other, buyer]) {
      const { body } = await gql(harness, CREATE, { ticketId }, user);
      expect(body.errors?.[0]?.extensions).toMatchObject({ code: "CONFLICT", reason: "TICKET_RESERVED" });
    }
    expect(await writeCounts(harness)).toEqual(before);
    await gql(harness, CANCEL, { id: first.id }, buyer);
    const second = await createOrder(harness, other, ticketId!);
    expect(second).toMatchObject({ status: "PENDING", buyer: { id: other.id } });
  });

  it("refuses a ticket the replica knows as SOLD with CONFLICT TICKET_SOLD", async () => {
    const [ticketId] = await listTickets(harness, seller.id);
    await harness.deliver("tickets", [
      ticketEvent({ ticketId: ticketId!, sellerId: seller.id, version: 2, status: "SOLD" }),
    ]);
    const before = await writeCounts(harness);
    const { body } = await gql(harness, CREATE, { ticketId }, buyer);
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: "CONFLICT", reason: "TICKET_SOLD" });
    expect(await writeCounts(harness)).toEqual(before);
  });
});

describe("cancelOrder", () => {
  it("the buyer cancels a pending order: CANCELLED (BUYER), version 2, order.cancelled with the full state", async () => {
    const [ticketId] = await listTickets(harness, seller.id);
    const order = await createOrder(harness, buyer, ticketId!);
    const { body } = await gql(harness, CANCEL, { id: order.id }, buyer);
    expect(body.errors).toBeUndefined();
    expect(body.data?.cancelOrder).toMatchObject({
      status: "CANCELLED",
      cancellationReason: "BUYER",
      version: 2,
    });
    const events = await outboxOf(harness, order.id);
    expect(events.map((e) => [e.event_type, e.aggregate_version])).toEqual([
      ["order.created", "1"],
      ["order.cancelled", "2"],
    ]);
    expect(events[1]?.payload.data).toEqual({
      orderId: order.id,
      ticketId,
      buyerId: buyer.id,
      status: "CANCELLED",
      amountMinor: order.amountMinor,
      currency: order.currency,
      expiresAt: order.expiresAt,
      version: 2,
    });
  });

  it("refuses someone other than the buyer with FORBIDDEN (even the seller), writing nothing", async () => {
    const [ticketId] = await listTickets(harness, seller.id);
    const order = await createOrder(harness, buyer, ticketId!);
    const before = await writeCounts(harness);
    for (const user of [other, seller]) {
      const { body } = await gql(harness, CANCEL, { id: order.id }, user);
      expect(body.errors?.[0]).toMatchObject({
        message: "Only the buyer can cancel this order.",
        extensions: { code: "FORBIDDEN" },
      });
    }
    expect(await writeCounts(harness)).toEqual(before);
  });

  it("refuses a malformed id, an unknown order, an anonymous caller and an order already cancelled, writing nothing", async () => {
    const [ticketId] = await listTickets(harness, seller.id);
    const order = await createOrder(harness, buyer, ticketId!);
    await gql(harness, CANCEL, { id: order.id }, buyer);
    const before = await writeCounts(harness);
    const malformed = await gql(harness, CANCEL, { id: "42" }, buyer);
    expect(malformed.body.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "id" });
    const unknown = await gql(harness, CANCEL, { id: randomUUID() }, buyer);
    expect(unknown.body.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    const anonymous = await gql(harness, CANCEL, { id: order.id });
    expect(anonymous.body.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    const again = await gql(harness, CANCEL, { id: order.id }, buyer);
    expect(again.body.errors?.[0]?.extensions).toMatchObject({ code: "CONFLICT", reason: "ORDER_CANCELLED" });
    expect(await writeCounts(harness)).toEqual(before);
  });
});

describe("order(id) and myOrders", () => {
  it("order(id): the buyer sees it, anyone else gets FORBIDDEN, an unknown id null, a malformed one BAD_USER_INPUT", async () => {
    const [ticketId] = await listTickets(harness, seller.id);
    const order = await createOrder(harness, buyer, ticketId!);
    const mine = await gql(harness, ORDER, { id: order.id }, buyer);
    expect(mine.body.data?.order).toEqual(order);
    const theirs = await gql(harness, ORDER, { id: order.id }, other);
    expect(theirs.body.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    expect(theirs.body.data?.order ?? null).toBeNull();
    const unknown = await gql(harness, ORDER, { id: randomUUID() }, buyer);
    expect(unknown.body).toEqual({ data: { order: null } });
    const malformed = await gql(harness, ORDER, { id: "x" }, buyer);
    expect(malformed.body.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "id" });
    const anonymous = await gql(harness, ORDER, { id: order.id });
    expect(anonymous.body.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });

  it("myOrders pages through the caller's own orders, newest first, without anyone else's", async () => {
    const shopper = await signUp();
    const tickets = await listTickets(harness, seller.id, 5);
    const placed: string[] = [];
    for (const ticketId of tickets) placed.push((await createOrder(harness, shopper, ticketId)).id);
    await createOrder(harness, other, (await listTickets(harness, seller.id))[0]!);
    const page1 = await gql(harness, MY_ORDERS, { first: 3 }, shopper);
    const ids1 = (page1.body.data?.myOrders as Array<{ id: string }>).map((o) => o.id);
    const page2 = await gql(harness, MY_ORDERS, { first: 3, after: ids1.at(-1) }, shopper);
    const ids2 = (page2.body.data?.myOrders as Array<{ id: string }>).map((o) => o.id);
    expect([...ids1, ...ids2]).toEqual([...placed].reverse());
    for (const [variables, field] of [
      [{ first: 0 }, "first"],
      [{ first: 101 }, "first"],
      [{ after: "nope" }, "after"],
    ] as const) {
      const { body } = await gql(harness, MY_ORDERS, variables, shopper);
      expect(body.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field });
    }
  });
});
