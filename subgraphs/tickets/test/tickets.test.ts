import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createTicket,
  gql,
  orderEvent,
  signUp,
  TICKET_FIELDS,
  writeCounts,
  type Harness,
  type TestUser,
  type TicketView,
} from "./support/harness.ts";
import { startHarness } from "./support/harness.ts";

let harness: Harness;
let seller: TestUser;
let other: TestUser;

beforeAll(async () => {
  harness = await startHarness();
  [seller, other] = await Promise.all([signUp(), signUp()]);
});
afterAll(async () => {
  await harness?.stop();
});

const CREATE = `mutation ($input: CreateTicketInput!) { createTicket(input: $input) { ${TICKET_FIELDS} } }`;
const UPDATE = `mutation ($id: ID!, $input: UpdateTicketInput!) { updateTicket(id: $id, input: $input) { ${TICKET_FIELDS} } }`;

interface OutboxRow {
  event_type: string;
  aggregate_version: string;
  payload: { data: Record<string, unknown>; producer: string };
}

async function outboxOf(ticketId: string): Promise<OutboxRow[]> {
  return harness.sql<OutboxRow & Record<string, unknown>>(
    "SELECT event_type, aggregate_version, payload FROM tickets.event_outbox WHERE aggregate_id = $1 ORDER BY aggregate_version",
    [ticketId],
  );
}

describe("createTicket", () => {
  it("lists a ticket with the caller as seller (AVAILABLE, version 1) and writes ticket.created with its full state", async () => {
    const { body } = await gql(
      harness,
      CREATE,
      { input: { title: "  Radiohead, 12 June  ", priceMinor: 8_500, currency: "eur" } },
      seller,
    );
    expect(body.errors).toBeUndefined();
    const ticket = body.data?.createTicket as TicketView;
    expect(ticket).toMatchObject({
      title: "Radiohead, 12 June",
      priceMinor: 8_500,
      currency: "EUR",
      status: "AVAILABLE",
      version: 1,
      seller: { id: seller.id },
    });
    const events = await outboxOf(ticket.id);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      event_type: "ticket.created",
      aggregate_version: "1",
      payload: {
        producer: "tickets",
        data: {
          ticketId: ticket.id,
          title: "Radiohead, 12 June",
          priceMinor: 8_500,
          currency: "EUR",
          sellerId: seller.id,
          status: "AVAILABLE",
          version: 1,
        },
      },
    });
  });

  it("keeps emoji (with zero-width joiners), accents and right-to-left scripts in titles", async () => {
    const title = "Family show 👨‍👩‍👧 — Café Ünïcødé — حفلة";
    const ticket = await createTicket(harness, seller, { title });
    expect(ticket.title).toBe(title.normalize("NFC"));
  });

  it("refuses an anonymous caller with UNAUTHENTICATED and an invalid token with HTTP 401", async () => {
    const anonymous = await gql(harness, CREATE, {
      input: { title: "x", priceMinor: 100, currency: "EUR" },
    });
    expect(anonymous.body.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    const forged = await gql(
      harness,
      CREATE,
      { input: { title: "x", priceMinor: 100, currency: "EUR" } },
      {
        ...seller,
        token: `${seller.token.slice(0, -4)}AAAA`,
      },
    );
    expect(forged.res.status).toBe(401);
    expect(forged.body.errors?.[0]?.extensions).toMatchObject({ code: "UNAUTHENTICATED" });
  });

  const valid = { title: "Concert", priceMinor: 1_000, currency: "EUR" };
  it.each([
    ["an empty title", { ...valid, title: "" }, "input.title"],
    ["a blank title", { ...valid, title: "   \n " }, "input.title"],
    ["a 10 KB title", { ...valid, title: "x".repeat(10_240) }, "input.title"],
    ["a 201-character title", { ...valid, title: "é".repeat(201) }, "input.title"],
    ["a title with control characters", { ...valid, title: "Concert\u0000" }, "input.title"],
    ["a title of only a zero-width space", { ...valid, title: "\u200b" }, "input.title"],
    ["a title of only Hangul fillers", { ...valid, title: "\u3164\u3164" }, "input.title"],
    ["a title with a right-to-left override", { ...valid, title: "\u202egnp.exe" }, "input.title"],
    ["a title with a line separator", { ...valid, title: "Two\u2028lines" }, "input.title"],
    ["a title with a lone surrogate", { ...valid, title: "Half \ud800 pair" }, "input.title"],
    ["a negative price", { ...valid, priceMinor: -1 }, "input.priceMinor"],
    ["a zero price", { ...valid, priceMinor: 0 }, "input.priceMinor"],
    ["a price above 100 000 000", { ...valid, priceMinor: 100_000_001 }, "input.priceMinor"],
    ["an unknown currency", { ...valid, currency: "XYZ" }, "input.currency"],
    ["a currency that is not a code", { ...valid, currency: "EURO" }, "input.currency"],
    ["an empty currency", { ...valid, currency: "" }, "input.currency"],
  ])("refuses %s with BAD_USER_INPUT, writing no ticket and no event", async (_name, input, field) => {
    const before = await writeCounts(harness);
    const { body } = await gql(harness, CREATE, { input }, seller);
    expect(body.data ?? null).toBeNull();
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field });
    expect(await writeCounts(harness)).toEqual(before);
  });

  it.each([
    ["a non-integer price", 12.5],
    ["a price beyond 32-bit Int", 2 ** 31],
    ["a huge price", 1e20],
  ])("refuses %s at the GraphQL layer with BAD_USER_INPUT, writing nothing", async (_name, priceMinor) => {
    const before = await writeCounts(harness);
    const { res, body } = await gql(harness, CREATE, { input: { ...valid, priceMinor } }, seller);
    expect(res.status).toBe(400);
    expect(body.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    expect(await writeCounts(harness)).toEqual(before);
  });
});

describe("updateTicket", () => {
  it("the seller changes the ticket: version + 1 and ticket.updated with the new state; a no-op change writes nothing", async () => {
    const ticket = await createTicket(harness, seller);
    const { body } = await gql(
      harness,
      UPDATE,
      { id: ticket.id, input: { title: "Radiohead, 13 June", priceMinor: 9_000 } },
      seller,
    );
    expect(body.data?.updateTicket).toMatchObject({
      title: "Radiohead, 13 June",
      priceMinor: 9_000,
      currency: "EUR",
      version: 2,
      status: "AVAILABLE",
    });
    const events = await outboxOf(ticket.id);
    expect(events.map((e) => [e.event_type, e.aggregate_version])).toEqual([
      ["ticket.created", "1"],
      ["ticket.updated", "2"],
    ]);
    expect(events[1]?.payload.data).toMatchObject({
      title: "Radiohead, 13 June",
      priceMinor: 9_000,
      version: 2,
    });

    const before = await writeCounts(harness);
    const same = await gql(
      harness,
      UPDATE,
      { id: ticket.id, input: { title: "Radiohead, 13 June" } },
      seller,
    );
    expect(same.body.data?.updateTicket).toMatchObject({ version: 2 });
    expect(await writeCounts(harness)).toEqual(before);
  });

  it("refuses another user with FORBIDDEN and writes nothing", async () => {
    const ticket = await createTicket(harness, seller);
    const before = await writeCounts(harness);
    const { body } = await gql(harness, UPDATE, { id: ticket.id, input: { priceMinor: 1 } }, other);
    expect(body.errors?.[0]).toMatchObject({
      message: "Only the seller can change this ticket.",
      extensions: { code: "FORBIDDEN" },
    });
    expect(await writeCounts(harness)).toEqual(before);
  });

  it("refuses invalid input, a malformed id (BAD_USER_INPUT) and an unknown id (NOT_FOUND), writing nothing", async () => {
    const ticket = await createTicket(harness, seller);
    const before = await writeCounts(harness);
    const cases: Array<[Record<string, unknown>, Record<string, unknown>]> = [
      [
        { id: ticket.id, input: { title: "" } },
        { code: "BAD_USER_INPUT", field: "input.title" },
      ],
      [
        { id: ticket.id, input: { priceMinor: -5 } },
        { code: "BAD_USER_INPUT", field: "input.priceMinor" },
      ],
      [
        { id: ticket.id, input: { currency: "ABC" } },
        { code: "BAD_USER_INPUT", field: "input.currency" },
      ],
      [
        { id: "not-a-uuid", input: { title: "x" } },
        { code: "BAD_USER_INPUT", field: "id" },
      ],
      [
        { id: "1; DROP TABLE tickets", input: { title: "x" } },
        { code: "BAD_USER_INPUT", field: "id" },
      ],
      [{ id: randomUUID(), input: { title: "x" } }, { code: "NOT_FOUND" }],
    ];
    for (const [variables, extensions] of cases) {
      const { body } = await gql(harness, UPDATE, variables, seller);
      expect(body.errors?.[0]?.extensions, JSON.stringify(variables)).toMatchObject(extensions);
    }
    expect(await writeCounts(harness)).toEqual(before);
  });

  it("refuses changes with CONFLICT while RESERVED, allows them again after the order is cancelled, refuses them once SOLD", async () => {
    const ticket = await createTicket(harness, seller);
    const orderId = randomUUID();
    await harness.deliverOrderEvents([
      orderEvent({ status: "PENDING", orderId, ticketId: ticket.id, version: 1 }),
    ]);
    const before = await writeCounts(harness);
    const reserved = await gql(harness, UPDATE, { id: ticket.id, input: { priceMinor: 1 } }, seller);
    expect(reserved.body.errors?.[0]).toMatchObject({
      message: "This ticket is reserved by an order and cannot be changed now.",
      extensions: { code: "CONFLICT", reason: "TICKET_RESERVED" },
    });
    expect(await writeCounts(harness)).toEqual(before);

    await harness.deliverOrderEvents([
      orderEvent({ status: "CANCELLED", orderId, ticketId: ticket.id, version: 2 }),
    ]);
    const again = await gql(harness, UPDATE, { id: ticket.id, input: { priceMinor: 1 } }, seller);
    expect(again.body.data?.updateTicket).toMatchObject({ status: "AVAILABLE", priceMinor: 1, version: 4 });

    const buyer = randomUUID();
    await harness.deliverOrderEvents([
      orderEvent({ status: "PENDING", orderId: buyer, ticketId: ticket.id, version: 1 }),
      orderEvent({ status: "COMPLETED", orderId: buyer, ticketId: ticket.id, version: 2 }),
    ]);
    const soldBefore = await writeCounts(harness);
    const sold = await gql(harness, UPDATE, { id: ticket.id, input: { title: "Resold" } }, seller);
    expect(sold.body.errors?.[0]).toMatchObject({
      message: "This ticket is sold and can no longer be changed.",
      extensions: { code: "CONFLICT", reason: "TICKET_SOLD" },
    });
    expect(await writeCounts(harness)).toEqual(soldBefore);
  });
});

describe("queries", () => {
  it("ticket(id): the ticket; null for an unknown id; BAD_USER_INPUT for a malformed one", async () => {
    const ticket = await createTicket(harness, seller);
    const query = `query ($id: ID!) { ticket(id: $id) { ${TICKET_FIELDS} } }`;
    expect((await gql(harness, query, { id: ticket.id })).body.data).toEqual({ ticket });
    expect((await gql(harness, query, { id: ticket.id.toUpperCase() })).body.data).toEqual({ ticket });
    expect((await gql(harness, query, { id: randomUUID() })).body.data).toEqual({ ticket: null });
    const malformed = await gql(harness, query, { id: "42" });
    expect(malformed.body.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "id" });
  });

  it("tickets(first, after): newest first, keyset pages cover every ticket exactly once", async () => {
    for (let i = 0; i < 5; i += 1) await createTicket(harness, other, { title: `Page test ${i}` });
    const all = (
      await harness.sql<{ id: string }>("SELECT id::text FROM tickets.tickets ORDER BY id DESC")
    ).map((r) => r.id);
    const seen: string[] = [];
    let after: string | undefined;
    for (;;) {
      const { body } = await gql(
        harness,
        "query ($after: String) { tickets(first: 3, after: $after) { id } }",
        {
          after,
        },
      );
      const page = body.data?.tickets as Array<{ id: string }>;
      if (page.length === 0) break;
      expect(page.length).toBeLessThanOrEqual(3);
      seen.push(...page.map((t) => t.id));
      after = page.at(-1)?.id;
    }
    expect(seen).toEqual(all);
    const defaultPage = await gql(harness, "{ tickets { id } }");
    expect((defaultPage.body.data?.tickets as unknown[]).length).toBe(Math.min(20, all.length));
  });

  it.each([
    ["first: 0", "{ tickets(first: 0) { id } }", "first"],
    ["first: 101", "{ tickets(first: 101) { id } }", "first"],
    ["first: -1", "{ tickets(first: -1) { id } }", "first"],
    ["a malformed after", '{ tickets(after: "zzz") { id } }', "after"],
  ])("tickets refuses %s with BAD_USER_INPUT", async (_name, query, field) => {
    const { body } = await gql(harness, query);
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field });
  });
});

describe("Ticket entity", () => {
  const ENTITIES = `query ($r: [_Any!]!) { _entities(representations: $r) { ... on Ticket { id title status version seller { id } } } }`;

  it("_entities resolves Ticket by @key id; unknown and malformed ids are null", async () => {
    const ticket = await createTicket(harness, seller);
    const { body } = await gql(harness, ENTITIES, {
      r: [
        { __typename: "Ticket", id: ticket.id },
        { __typename: "Ticket", id: randomUUID() },
        { __typename: "Ticket", id: "not-a-uuid" },
      ],
    });
    expect(body.data).toEqual({
      _entities: [
        { id: ticket.id, title: ticket.title, status: "AVAILABLE", version: 1, seller: { id: seller.id } },
        null,
        null,
      ],
    });
  });

  it("50 references cost one SQL query (DataLoader batching)", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1) ids.push((await createTicket(harness, seller)).id);
    harness.queries.length = 0;
    const { body } = await gql(harness, ENTITIES, {
      r: Array.from({ length: 50 }, (_, i) => ({ __typename: "Ticket", id: ids[i % ids.length] })),
    });
    expect((body.data?._entities as unknown[]).filter(Boolean)).toHaveLength(50);
    expect(harness.queries.filter((q) => /FROM "tickets"\."tickets"/.test(q))).toHaveLength(1);
  });
});
