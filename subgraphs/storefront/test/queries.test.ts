/**
 * What the storefront serves, fed by real events: `listings` (full-text search, price filter,
 * onlyAvailable, keyset pagination, bad input), `User.orders` / `User.sales` through `_entities`
 * (contents and visibility), `Ticket.availability` through `_entities`.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  gql,
  orderEvent,
  signOut,
  signUp,
  startHarness,
  ticketEvent,
  waitUntil,
  type Harness,
  type TestUser,
} from "./support/harness.ts";

let harness: Harness;
let seller: TestUser;
let buyer: TestUser;
let other: TestUser;

const LISTINGS = `query ($filter: ListingFilter, $first: Int, $after: String) {
  listings(filter: $filter, first: $first, after: $after) {
    edges { cursor node { id title priceMinor currency availability seller { id } ticket { id } } }
    endCursor
    hasNextPage
  }
}`;

interface ListingsBody {
  edges: Array<{
    cursor: string;
    node: { id: string; title: string; priceMinor: number; availability: string };
  }>;
  endCursor: string | null;
  hasNextPage: boolean;
}

// A private catalogue: each title carries this run's tag, so searches only see this file's tickets.
const tag = `t${randomUUID().slice(0, 8)}`;
const ids = {
  opera: randomUUID(),
  operaGala: randomUUID(),
  rock: randomUUID(),
  jazz: randomUUID(),
  sold: randomUUID(),
  reserved: randomUUID(),
};
const orders = { completed: randomUUID(), pending: randomUUID(), cancelled: randomUUID() };

beforeAll(async () => {
  harness = await startHarness();
  [seller, buyer, other] = await Promise.all([signUp(), signUp(), signUp()]);
  const listed = (n: number) => new Date(Date.UTC(2026, 0, 1, 12, n));
  const t = (ticketId: string, title: string, priceMinor: number, n: number, currency = "EUR") =>
    ticketEvent({
      ticketId,
      sellerId: seller.id,
      version: 1,
      title: `${title} ${tag}`,
      priceMinor,
      currency,
      occurredAt: listed(n),
    });
  await harness.deliver([
    t(ids.opera, "Opera Carmen", 5_000, 1),
    t(ids.operaGala, "Opera Gala Night", 12_000, 2),
    t(ids.rock, "Rock Arena", 8_000, 3, "GBP"),
    t(ids.jazz, "Jazz Club", 3_000, 4),
    t(ids.sold, "Sold Out Show", 7_000, 5),
    t(ids.reserved, "Reserved Seat", 6_000, 6),
    // The sold ticket: the buyer's completed order (the ticket's own status update has not arrived);
    // the reserved one: a pending order; the jazz ticket: a cancelled order (available again).
    orderEvent({
      orderId: orders.completed,
      ticketId: ids.sold,
      buyerId: buyer.id,
      status: "COMPLETED",
      version: 2,
      amountMinor: 7_000,
      occurredAt: listed(10),
    }),
    orderEvent({
      orderId: orders.pending,
      ticketId: ids.reserved,
      buyerId: buyer.id,
      status: "PENDING",
      version: 1,
      amountMinor: 6_000,
      occurredAt: listed(11),
    }),
    orderEvent({
      orderId: orders.cancelled,
      ticketId: ids.jazz,
      buyerId: buyer.id,
      status: "CANCELLED",
      version: 2,
      amountMinor: 3_000,
      occurredAt: listed(12),
    }),
  ]);
});
afterAll(async () => {
  await harness?.stop();
});

async function listings(variables: Record<string, unknown>): Promise<ListingsBody> {
  const { body } = await gql(harness, LISTINGS, variables);
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data?.listings as ListingsBody;
}
const titles = (page: ListingsBody) => page.edges.map((e) => e.node.title.replace(` ${tag}`, ""));

describe("listings", () => {
  it("full-text search on the title, newest first, with the seller and availability", async () => {
    const page = await listings({ filter: { search: `opera ${tag}` } });
    expect(titles(page)).toEqual(["Opera Gala Night", "Opera Carmen"]);
    expect(page.edges[0]?.node).toEqual({
      id: ids.operaGala,
      title: `Opera Gala Night ${tag}`,
      priceMinor: 12_000,
      currency: "EUR",
      availability: "AVAILABLE",
      seller: { id: seller.id },
      ticket: { id: ids.operaGala },
    });
    expect(page.hasNextPage).toBe(false);
  });

  it("web-search syntax: quoted phrases and excluded words", async () => {
    expect(titles(await listings({ filter: { search: `"gala night" ${tag}` } }))).toEqual([
      "Opera Gala Night",
    ]);
    expect(titles(await listings({ filter: { search: `opera -gala ${tag}` } }))).toEqual(["Opera Carmen"]);
    expect(titles(await listings({ filter: { search: `nothing-like-this ${tag}` } }))).toEqual([]);
  });

  it("search ignores accents, both ways", async () => {
    const accents = `a${randomUUID().slice(0, 8)}`;
    const id = randomUUID();
    await harness.deliver([
      ticketEvent({
        ticketId: id,
        sellerId: seller.id,
        version: 1,
        title: `Björk & Motörhead ${accents}`,
      }),
    ]);
    for (const search of [`bjork ${accents}`, `MOTORHEAD ${accents}`, `"björk motörhead" ${accents}`]) {
      expect(titles(await listings({ filter: { search } })), search).toEqual([
        `Björk & Motörhead ${accents}`,
      ]);
    }
    expect(titles(await listings({ filter: { search: `bjork -motörhead ${accents}` } }))).toEqual([]);
  });

  it("price bounds are inclusive, in minor units", async () => {
    const page = await listings({ filter: { search: tag, minPrice: 5_000, maxPrice: 8_000 } });
    expect(titles(page)).toEqual(["Reserved Seat", "Sold Out Show", "Rock Arena", "Opera Carmen"]);
  });

  it("onlyAvailable leaves out sold and reserved tickets (a cancelled order releases its ticket)", async () => {
    const page = await listings({ filter: { search: tag, onlyAvailable: true } });
    expect(titles(page)).toEqual(["Jazz Club", "Rock Arena", "Opera Gala Night", "Opera Carmen"]);
    const all = await listings({ filter: { search: tag } });
    expect(Object.fromEntries(all.edges.map((e) => [e.node.id, e.node.availability]))).toEqual({
      [ids.opera]: "AVAILABLE",
      [ids.operaGala]: "AVAILABLE",
      [ids.rock]: "AVAILABLE",
      [ids.jazz]: "AVAILABLE",
      [ids.sold]: "SOLD",
      [ids.reserved]: "RESERVED",
    });
  });

  it("keyset pagination walks every listing once, in order, across pages", async () => {
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const page: ListingsBody = await listings({ filter: { search: tag }, first: 4, after });
      seen.push(...titles(page));
      pages += 1;
      if (!page.hasNextPage) break;
      after = page.endCursor;
    }
    expect(pages).toBe(2);
    expect(seen).toEqual([
      "Reserved Seat",
      "Sold Out Show",
      "Jazz Club",
      "Rock Arena",
      "Opera Gala Night",
      "Opera Carmen",
    ]);
  });

  it("a page ending exactly at the last listing says there is no next page", async () => {
    const page = await listings({ filter: { search: tag }, first: 6 });
    expect(page.edges).toHaveLength(6);
    expect(page.hasNextPage).toBe(false);
    const empty = await listings({ filter: { search: tag }, first: 6, after: page.endCursor });
    expect(empty).toEqual({ edges: [], endCursor: null, hasNextPage: false });
  });

  it.each([
    [{ first: 0 }, "first"],
    [{ first: 101 }, "first"],
    [{ after: "not a cursor" }, "after"],
    [{ after: Buffer.from("l1:123:not-a-uuid").toString("base64url") }, "after"],
    [{ after: Buffer.from(`x9:1:${randomUUID()}`).toString("base64url") }, "after"],
    // Well-formed but out of timestamptz's range: was SQLSTATE 22008, an INTERNAL_SERVER_ERROR.
    [{ after: Buffer.from(`l1:-999999999999999999:${randomUUID()}`).toString("base64url") }, "after"],
    [{ after: Buffer.from(`l1:999999999999999999:${randomUUID()}`).toString("base64url") }, "after"],
    [{ filter: { minPrice: -1 } }, "filter.minPrice"],
    [{ filter: { minPrice: 10, maxPrice: 5 } }, "filter.minPrice"],
    [{ filter: { search: "x".repeat(201) } }, "filter.search"],
    // PostgreSQL text cannot hold NUL (SQLSTATE 22021): refused up front, not a 500.
    [{ filter: { search: "a\u0000" } }, "filter.search"],
  ])("refuses %j with BAD_USER_INPUT (%s)", async (variables, field) => {
    const { body } = await gql(harness, LISTINGS, variables);
    expect(body.data?.listings ?? null).toBeNull();
    expect(body.errors?.[0]?.extensions).toEqual(expect.objectContaining({ code: "BAD_USER_INPUT", field }));
  });
});

const USER = `query ($representations: [_Any!]!) {
  _entities(representations: $representations) {
    ... on User {
      id
      orders { orderId status amount { amountMinor currency } ticketTitle ticketPrice { amountMinor currency } ticket { id } placedAt }
      sales { items { orderId ticketTitle amount { amountMinor currency } ticket { id } } totalRevenue { amountMinor currency } }
    }
  }
}`;

const userRef = (user: TestUser) => ({ representations: [{ __typename: "User", id: user.id }] });

describe("User.orders and User.sales", () => {
  it("the buyer sees their history with each ticket's title and price, newest first", async () => {
    const { body } = await gql(harness, USER, userRef(buyer), buyer);
    expect(body.errors).toBeUndefined();
    const [me] = body.data?._entities as Array<{ orders: unknown[]; sales: unknown }>;
    expect(me?.orders).toEqual([
      {
        orderId: orders.cancelled,
        status: "CANCELLED",
        amount: { amountMinor: 3_000, currency: "EUR" },
        ticketTitle: `Jazz Club ${tag}`,
        ticketPrice: { amountMinor: 3_000, currency: "EUR" },
        ticket: { id: ids.jazz },
        placedAt: "2026-01-01T12:12:00.000Z",
      },
      expect.objectContaining({
        orderId: orders.pending,
        status: "PENDING",
        ticketTitle: `Reserved Seat ${tag}`,
      }),
      expect.objectContaining({
        orderId: orders.completed,
        status: "COMPLETED",
        ticketTitle: `Sold Out Show ${tag}`,
        ticketPrice: { amountMinor: 7_000, currency: "EUR" },
      }),
    ]);
    expect(me?.sales).toEqual({ items: [], totalRevenue: [] });
  });

  it("the seller sees the tickets sold and the total revenue per currency", async () => {
    const rockOrder = randomUUID();
    await harness.deliver([
      orderEvent({
        orderId: rockOrder,
        ticketId: ids.rock,
        buyerId: other.id,
        status: "COMPLETED",
        version: 2,
        amountMinor: 8_000,
        currency: "GBP",
        occurredAt: new Date(Date.UTC(2026, 0, 1, 12, 30)),
      }),
    ]);
    const { body } = await gql(harness, USER, userRef(seller), seller);
    const [me] = body.data?._entities as Array<{ orders: unknown[]; sales: unknown }>;
    expect(me?.orders).toEqual([]);
    expect(me?.sales).toEqual({
      items: [
        {
          orderId: rockOrder,
          ticketTitle: `Rock Arena ${tag}`,
          amount: { amountMinor: 8_000, currency: "GBP" },
          ticket: { id: ids.rock },
        },
        {
          orderId: orders.completed,
          ticketTitle: `Sold Out Show ${tag}`,
          amount: { amountMinor: 7_000, currency: "EUR" },
          ticket: { id: ids.sold },
        },
      ],
      totalRevenue: [
        { amountMinor: 7_000, currency: "EUR" },
        { amountMinor: 8_000, currency: "GBP" },
      ],
    });
  });

  it("another user and an anonymous caller get null (no error, nothing revealed)", async () => {
    for (const caller of [other, undefined]) {
      const { body } = await gql(harness, USER, userRef(buyer), caller);
      expect(body.errors).toBeUndefined();
      expect(body.data?._entities).toEqual([{ id: buyer.id, orders: null, sales: null }]);
    }
  });

  it("a signed-out session is refused (session denylist)", async () => {
    const user = await signUp();
    await signOut(user);
    await waitUntil(
      async () =>
        (await gql(harness, USER, userRef(user), user)).body.errors?.[0]?.extensions?.code ===
        "UNAUTHENTICATED",
      30_000,
      "revoked session refused",
    );
  });
});

describe("Ticket.availability", () => {
  const TICKET = `query ($representations: [_Any!]!) {
    _entities(representations: $representations) { ... on Ticket { id availability } }
  }`;

  it("resolves many tickets in one request: AVAILABLE, RESERVED, SOLD, and null for unknown or malformed ids", async () => {
    const unknown = randomUUID();
    const representations = [ids.opera, ids.reserved, ids.sold, unknown, "nope"].map((id) => ({
      __typename: "Ticket",
      id,
    }));
    const { body } = await gql(harness, TICKET, { representations });
    expect(body.errors).toBeUndefined();
    expect(body.data?._entities).toEqual([
      { id: ids.opera, availability: "AVAILABLE" },
      { id: ids.reserved, availability: "RESERVED" },
      { id: ids.sold, availability: "SOLD" },
      { id: unknown, availability: null },
      { id: "nope", availability: null },
    ]);
  });

  it("follows the ticket's own status too (a ticket.updated to SOLD without an order seen here)", async () => {
    await harness.deliver([
      ticketEvent({
        ticketId: ids.opera,
        sellerId: seller.id,
        version: 2,
        status: "SOLD",
        title: `Opera Carmen ${tag}`,
      }),
    ]);
    const { body } = await gql(harness, TICKET, {
      representations: [{ __typename: "Ticket", id: ids.opera }],
    });
    expect(body.data?._entities).toEqual([{ id: ids.opera, availability: "SOLD" }]);
  });
});
