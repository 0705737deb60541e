/**
 * Fair inventory against real PostgreSQL: one buyer holds at most ORDERS_MAX_PENDING_PER_BUYER
 * PENDING orders (also when the orders arrive at the same instant), and a buyer who cancelled an order
 * cannot reserve the same ticket again during ORDERS_REORDER_COOLDOWN_SECONDS — while another buyer can.
 * Every refusal is a typed CONFLICT and writes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createOrder,
  gql,
  listTickets,
  ORDER_FIELDS,
  signUp,
  startHarness,
  writeCounts,
  type Harness,
  type TestUser,
} from "./support/harness.ts";

let harness: Harness;
let seller: TestUser;

beforeAll(async () => {
  harness = await startHarness({ maxPendingPerBuyer: 3, reorderCooldownSeconds: 300 });
  seller = await signUp();
});
afterAll(async () => {
  await harness?.stop();
});

const CREATE = `mutation ($ticketId: ID!) { createOrder(ticketId: $ticketId) { ${ORDER_FIELDS} } }`;
const CANCEL = `mutation ($id: ID!) { cancelOrder(id: $id) { id status } }`;

describe("at most 3 pending orders per buyer", () => {
  it("the 4th is CONFLICT PENDING_ORDER_LIMIT and writes nothing; after cancelling one, the buyer may order again", async () => {
    const buyer = await signUp();
    const tickets = await listTickets(harness, seller.id, 5);
    const held = [];
    for (const ticketId of tickets.slice(0, 3)) held.push(await createOrder(harness, buyer, ticketId));
    const before = await writeCounts(harness);
    const { body } = await gql(harness, CREATE, { ticketId: tickets[3] }, buyer);
    expect(body.data?.createOrder ?? null).toBeNull();
    expect(body.errors?.[0]?.extensions).toMatchObject({
      code: "CONFLICT",
      reason: "PENDING_ORDER_LIMIT",
      limit: 3,
    });
    expect(await writeCounts(harness)).toEqual(before);
    // Another buyer is not affected by this buyer's limit.
    const other = await signUp();
    expect(await createOrder(harness, other, tickets[4]!)).toMatchObject({ status: "PENDING" });
    await gql(harness, CANCEL, { id: held[0]!.id }, buyer);
    expect(await createOrder(harness, buyer, tickets[3]!)).toMatchObject({ status: "PENDING" });
  });

  it("ten createOrder at the same instant by one buyer: exactly 3 succeed, the rest are PENDING_ORDER_LIMIT", async () => {
    const buyer = await signUp();
    const tickets = await listTickets(harness, seller.id, 10);
    const results = await Promise.all(tickets.map((ticketId) => gql(harness, CREATE, { ticketId }, buyer)));
    const won = results.filter((r) => r.body.data?.createOrder);
    const refused = results.map((r) => r.body.errors?.[0]?.extensions).filter(Boolean);
    expect(won).toHaveLength(3);
    expect(refused).toHaveLength(7);
    for (const extensions of refused) expect(extensions).toMatchObject({ reason: "PENDING_ORDER_LIMIT" });
    const [row] = await harness.sql<{ n: number }>(
      "SELECT count(*)::int AS n FROM orders.orders WHERE buyer_id = $1 AND status = 'PENDING'",
      [buyer.id],
    );
    expect(row?.n).toBe(3);
  });
});

describe("cool-down after cancelling", () => {
  it("the same buyer reordering the ticket they cancelled is CONFLICT REORDER_COOLDOWN with retryAfter; another buyer gets it at once", async () => {
    const buyer = await signUp();
    const other = await signUp();
    const [ticketId] = await listTickets(harness, seller.id);
    const order = await createOrder(harness, buyer, ticketId!);
    await gql(harness, CANCEL, { id: order.id }, buyer);
    const before = await writeCounts(harness);
    const { body } = await gql(harness, CREATE, { ticketId }, buyer);
    expect(body.data?.createOrder ?? null).toBeNull();
    const extensions = body.errors?.[0]?.extensions;
    expect(extensions).toMatchObject({ code: "CONFLICT", reason: "REORDER_COOLDOWN" });
    expect(extensions?.retryAfter).toBeGreaterThan(290);
    expect(extensions?.retryAfter).toBeLessThanOrEqual(300);
    expect(await writeCounts(harness)).toEqual(before);
    expect(await createOrder(harness, other, ticketId!)).toMatchObject({ status: "PENDING" });
  });

  it("once the cool-down has passed, the buyer may order it again", async () => {
    const buyer = await signUp();
    const [ticketId] = await listTickets(harness, seller.id);
    const order = await createOrder(harness, buyer, ticketId!);
    await gql(harness, CANCEL, { id: order.id }, buyer);
    // The cancellation's time is what the cool-down counts from: move it 301 s into the past.
    await harness.sql("UPDATE orders.orders SET updated_at = now() - interval '301 seconds' WHERE id = $1", [
      order.id,
    ]);
    expect(await createOrder(harness, buyer, ticketId!)).toMatchObject({ status: "PENDING" });
  });
});
