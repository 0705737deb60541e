/**
 * The durable order timer (order-expiration.worker.ts) with the window shortened to 2 s by
 * ORDER_EXPIRATION_SECONDS: a due order is cancelled (EXPIRED) with `order.cancelled` in the outbox;
 * with two replicas' workers every order is cancelled exactly once; an order that fell due while no
 * worker ran is cancelled by the next one started (the timer is the row, not process memory).
 * Deadlines only: no assertion on how long anything took.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPublisher } from "@boxoffice/events";
import type { OrdersApp } from "../src/app.ts";
import { createOrderExpirationWorker } from "../src/order-expiration.worker.ts";
import {
  createOrder,
  gql,
  listTickets,
  ORDER_FIELDS,
  outboxOf,
  signUp,
  startHarness,
  waitUntil,
  type Harness,
} from "./support/harness.ts";

let harness: Harness;
const seller = randomUUID();

beforeAll(async () => {
  // The harness's own app runs no worker: each test decides which workers exist.
  harness = await startHarness({ expirationSeconds: 2, expirationPollMs: 100, expirationWorker: false });
});
afterAll(async () => {
  await harness?.stop();
});

async function statusOf(orderId: string) {
  const [row] = await harness.sql<{ status: string; reason: string | null; version: number }>(
    "SELECT status::text, cancellation_reason::text AS reason, version FROM orders.orders WHERE id = $1",
    [orderId],
  );
  return row;
}

/** Waits until every order's `expires_at` has passed by the database clock (what the worker uses). */
async function waitDue(orderIds: string[]): Promise<void> {
  await waitUntil(
    async () => {
      const [row] = await harness.sql<{ n: number }>(
        "SELECT count(*)::int AS n FROM orders.orders WHERE id = ANY($1::uuid[]) AND expires_at <= now()",
        [orderIds],
      );
      return row?.n === orderIds.length;
    },
    20_000,
    "orders due",
  );
}

async function placeOrders(count: number): Promise<string[]> {
  const tickets = await listTickets(harness, seller, count);
  const orders = await Promise.all(tickets.map((t) => harness.app.services.createOrder(randomUUID(), t)));
  return orders.map((o) => o.id);
}

describe("order expiration", () => {
  it("an unpaid order is cancelled after the window: CANCELLED (EXPIRED), version 2, order.cancelled in the outbox", async () => {
    const worker = await harness.startReplica({ expirationWorker: true });
    try {
      const buyer = await signUp();
      const [ticketId] = await listTickets(harness, seller);
      const order = await createOrder(harness, buyer, ticketId!);
      expect(Date.parse(order.expiresAt) - Date.now()).toBeLessThanOrEqual(2_000);
      await waitUntil(
        async () => (await statusOf(order.id))?.status === "CANCELLED",
        20_000,
        "order expired",
      );
      const { body } = await gql(
        harness,
        `query ($id: ID!) { order(id: $id) { ${ORDER_FIELDS} } }`,
        { id: order.id },
        buyer,
      );
      expect(body.data?.order).toMatchObject({
        status: "CANCELLED",
        cancellationReason: "EXPIRED",
        version: 2,
      });
      const events = await outboxOf(harness, order.id);
      expect(events.map((e) => [e.event_type, e.aggregate_version])).toEqual([
        ["order.created", "1"],
        ["order.cancelled", "2"],
      ]);
      expect(events[1]?.payload.data).toMatchObject({ orderId: order.id, status: "CANCELLED", version: 2 });
      // The ticket is free again.
      const again = await createOrder(harness, buyer, ticketId!);
      expect(again.status).toBe("PENDING");
      // Leave no PENDING order behind for the other tests' workers.
      await harness.app.services.cancelOrder(buyer.id, again.id);
    } finally {
      await worker.stop();
    }
  });

  it("with a grace period, an order past expires_at stays PENDING (payable by a capture on its way) until the grace has passed", async () => {
    const [orderId] = await placeOrders(1);
    await waitDue([orderId!]);
    const worker = createOrderExpirationWorker({
      prisma: harness.app.services.prisma,
      publisher: createPublisher({ registry: harness.registry, producer: "orders" }),
      pollIntervalMs: 100,
      graceSeconds: 2,
    });
    expect(await worker.runOnce()).not.toContain(orderId);
    expect(await statusOf(orderId!)).toMatchObject({ status: "PENDING", version: 1 });
    await waitUntil(
      async () =>
        (
          await harness.sql(
            "SELECT 1 FROM orders.orders WHERE id = $1 AND expires_at + interval '2 seconds' <= now()",
            [orderId],
          )
        ).length === 1,
      20_000,
      "grace passed",
    );
    expect(await worker.runOnce()).toContain(orderId);
    expect(await statusOf(orderId!)).toEqual({ status: "CANCELLED", reason: "EXPIRED", version: 2 });
  });

  it("a paid or cancelled order is left alone when its time comes", async () => {
    const [paid, cancelled] = await placeOrders(2);
    await harness.sql("UPDATE orders.orders SET status = 'COMPLETED', version = 2 WHERE id = $1", [paid]);
    const order = await harness.sql<{ buyer_id: string }>(
      "SELECT buyer_id::text FROM orders.orders WHERE id = $1",
      [cancelled],
    );
    await harness.app.services.cancelOrder(order[0]!.buyer_id, cancelled!);
    await waitDue([paid!, cancelled!]);
    const claimed = await harness.app.expiration.runOnce();
    expect(claimed).not.toContain(paid);
    expect(claimed).not.toContain(cancelled);
    expect(await statusOf(paid!)).toMatchObject({ status: "COMPLETED", version: 2 });
    expect(await statusOf(cancelled!)).toMatchObject({ status: "CANCELLED", reason: "BUYER", version: 2 });
  });

  it("with two replicas' workers, every due order is cancelled exactly once (one order.cancelled each)", async () => {
    const ids = await placeOrders(30);
    await waitDue(ids);
    const replicas: OrdersApp[] = await Promise.all([
      harness.startReplica({ expirationWorker: true }),
      harness.startReplica({ expirationWorker: true }),
    ]);
    const cancelledByReplicas = () =>
      replicas.reduce((sum, r) => sum + r.expiration.status().cancelledTotal, 0);
    try {
      // Both: a worker counts its cancellations once its transaction's promise resolves, which can be
      // a moment after other connections already see the commit (a fresh-clone run read the counters
      // in that moment: every order cancelled once in the database, the counters still 0).
      await waitUntil(
        async () => {
          const [row] = await harness.sql<{ n: number }>(
            "SELECT count(*)::int AS n FROM orders.orders WHERE id = ANY($1::uuid[]) AND status = 'CANCELLED'",
            [ids],
          );
          return row?.n === ids.length && cancelledByReplicas() >= ids.length;
        },
        20_000,
        "all orders expired and counted by the replicas' workers",
      );
      const rows = await harness.sql<{ id: string; version: number; cancelled: number }>(
        `SELECT o.id::text, o.version,
                (SELECT count(*)::int FROM orders.event_outbox e
                  WHERE e.aggregate_id = o.id::text AND e.event_type = 'order.cancelled') AS cancelled
         FROM orders.orders o WHERE o.id = ANY($1::uuid[])`,
        [ids],
      );
      for (const row of rows) expect(row).toMatchObject({ version: 2, cancelled: 1 });
      expect(cancelledByReplicas()).toBe(ids.length);
    } finally {
      await Promise.all(replicas.map((r) => r.stop()));
    }
  });

  it("two workers polling at the same moment claim disjoint orders (FOR UPDATE SKIP LOCKED)", async () => {
    const ids = await placeOrders(20);
    await waitDue(ids);
    const other = await harness.startReplica({ expirationWorker: false });
    try {
      const [a, b] = await Promise.all([harness.app.expiration.runOnce(), other.expiration.runOnce()]);
      expect(a.filter((id) => b.includes(id))).toEqual([]);
      // Whatever one claim skipped is still due; a later poll takes it. Nothing is left behind.
      const rest = await harness.app.expiration.runOnce();
      expect([...a, ...b, ...rest].sort()).toEqual([...ids].sort());
    } finally {
      await other.stop();
    }
  });

  it("survives a restart: an order that fell due while no worker ran is cancelled by the next worker started", async () => {
    const before = await harness.startReplica({ expirationWorker: true });
    const [ticketId] = await listTickets(harness, seller);
    const order = await before.services.createOrder(randomUUID(), ticketId!);
    await before.stop();
    await waitDue([order.id]);
    expect(await statusOf(order.id)).toMatchObject({ status: "PENDING", version: 1 });
    const after = await harness.startReplica({ expirationWorker: true });
    try {
      await waitUntil(
        async () => (await statusOf(order.id))?.status === "CANCELLED",
        20_000,
        "order expired after restart",
      );
      expect(await statusOf(order.id)).toEqual({ status: "CANCELLED", reason: "EXPIRED", version: 2 });
      expect((await outboxOf(harness, order.id)).map((e) => e.event_type)).toEqual([
        "order.created",
        "order.cancelled",
      ]);
    } finally {
      await after.stop();
    }
  });
});
