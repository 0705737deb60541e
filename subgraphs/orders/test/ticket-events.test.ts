/**
 * The ticket-replica consumer, driven by real ticket events produced to Kafka: `ticket.created` and
 * `ticket.updated` each have an "applies", a duplicate and an out-of-order test (CONVENTIONS.md).
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHarness, ticketEvent, type Harness, type TicketSpec } from "./support/harness.ts";

let harness: Harness;

beforeAll(async () => {
  harness = await startHarness();
});
afterAll(async () => {
  await harness?.stop();
});

async function replicaOf(ticketId: string) {
  return harness.sql(
    `SELECT title, price_minor AS "priceMinor", currency, seller_id::text AS "sellerId", status::text, version
     FROM orders.ticket_replica WHERE id = $1`,
    [ticketId],
  );
}

const spec = (version: number, extra: Partial<TicketSpec> = {}): TicketSpec => ({
  ticketId: extra.ticketId ?? randomUUID(),
  sellerId: extra.sellerId ?? randomUUID(),
  version,
  ...extra,
});

describe("ticket.created", () => {
  it("adds the ticket to the replica with its full state", async () => {
    const t = spec(1, { priceMinor: 4_200, currency: "USD", title: "Opera" });
    await harness.deliver("tickets", [ticketEvent(t)]);
    expect(await replicaOf(t.ticketId)).toEqual([
      {
        title: "Opera",
        priceMinor: 4_200,
        currency: "USD",
        sellerId: t.sellerId,
        status: "AVAILABLE",
        version: 1,
      },
    ]);
  });

  it("a duplicate (the same event twice) leaves one row, unchanged", async () => {
    const t = spec(1);
    const event = ticketEvent(t);
    await harness.deliver("tickets", [event, event]);
    expect(await replicaOf(t.ticketId)).toEqual([
      expect.objectContaining({ version: 1, status: "AVAILABLE" }),
    ]);
    const [inbox] = await harness.sql(
      "SELECT count(*)::int AS n FROM orders.event_inbox WHERE event_id = $1",
      [event.eventId],
    );
    expect(inbox).toEqual({ n: 1 });
  });

  it("out of order: ticket.created delivered after ticket.updated v2 does not roll the replica back", async () => {
    const t = spec(1);
    await harness.deliver("tickets", [
      ticketEvent({ ...t, version: 2, status: "RESERVED", priceMinor: 9_999 }),
      ticketEvent(t),
    ]);
    expect(await replicaOf(t.ticketId)).toEqual([
      expect.objectContaining({ version: 2, status: "RESERVED", priceMinor: 9_999 }),
    ]);
  });
});

describe("ticket.updated", () => {
  it("replaces the replica's state with the newer version", async () => {
    const t = spec(1);
    await harness.deliver("tickets", [
      ticketEvent(t),
      ticketEvent({ ...t, version: 2, title: "New title", priceMinor: 1_234, status: "SOLD" }),
    ]);
    expect(await replicaOf(t.ticketId)).toEqual([
      expect.objectContaining({ title: "New title", priceMinor: 1_234, status: "SOLD", version: 2 }),
    ]);
  });

  it("a duplicate of an update (same event twice, and the same version under a new event id) changes nothing", async () => {
    const t = spec(1);
    const v2 = ticketEvent({ ...t, version: 2, priceMinor: 2_000 });
    await harness.deliver("tickets", [
      ticketEvent(t),
      v2,
      v2,
      ticketEvent({ ...t, version: 2, priceMinor: 7_777 }),
    ]);
    expect(await replicaOf(t.ticketId)).toEqual([expect.objectContaining({ priceMinor: 2_000, version: 2 })]);
  });

  it("out of order: v1, v3, v2, v3 converges on v3", async () => {
    const t = spec(1);
    const v3 = ticketEvent({ ...t, version: 3, status: "SOLD", priceMinor: 3_000 });
    await harness.deliver("tickets", [
      ticketEvent(t),
      v3,
      ticketEvent({ ...t, version: 2, status: "RESERVED", priceMinor: 2_000 }),
      v3,
    ]);
    expect(await replicaOf(t.ticketId)).toEqual([
      expect.objectContaining({ status: "SOLD", priceMinor: 3_000, version: 3 }),
    ]);
  });
});
