/**
 * Bad input on every mutation, through the gateway: each gets a typed error (`BAD_USER_INPUT`,
 * `UNAUTHENTICATED`, `FORBIDDEN`, `NOT_FOUND`, `CONFLICT`), no data and no internals — and nothing is
 * written anywhere: every table of every subgraph's schema (outboxes included, so no event either)
 * is byte-for-byte the same afterwards.
 */
import { SUBGRAPH_NAMES } from "@boxoffice/topology";
import { beforeAll, describe, expect, it } from "vitest";
import { eventually, PASSWORD, PAY, sql, uniqueWord, type TestUser } from "../support/client.ts";
import { world } from "./platform.ts";

/** Every subgraph's PostgreSQL schema (named after it): all of the topology. */
const SCHEMAS = [...SUBGRAPH_NAMES];

/** One md5 per table of every subgraph schema, over its rows in a stable order. */
async function snapshot(): Promise<Record<string, string>> {
  const tables = await sql<{ schema: string; name: string }>(
    world.platform,
    `SELECT table_schema AS schema, table_name AS name FROM information_schema.tables
      WHERE table_schema = ANY($1) AND table_type = 'BASE TABLE'
        -- rate_limits counts attempts (sign-in throttling): recording a refused one is its purpose.
        AND table_name NOT IN ('_prisma_migrations', 'rate_limits')
      ORDER BY 1, 2`,
    [SCHEMAS],
  );
  expect(tables.length).toBeGreaterThan(15);
  const parts = tables.map(
    (t) =>
      `SELECT '${t.schema}.${t.name}' AS name, count(*)::text || ':' || coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '') AS digest FROM "${t.schema}"."${t.name}" x`,
  );
  const rows = await sql<{ name: string; digest: string }>(world.platform, parts.join(" UNION ALL "));
  return Object.fromEntries(rows.map((r) => [r.name, r.digest]));
}

/** Waits until no event is still on its way (two snapshots 1 s apart agree), then returns it. */
async function settled(): Promise<Record<string, string>> {
  let previous = await snapshot();
  for (let i = 0; i < 20; i += 1) {
    await new Promise((r) => setTimeout(r, 1000));
    const current = await snapshot();
    if (JSON.stringify(current) === JSON.stringify(previous)) return current;
    previous = current;
  }
  throw new Error("the platform's tables kept changing for 20 s");
}

type Case = [
  name: string,
  query: string,
  variables: Record<string, unknown>,
  who: "anonymous" | keyof Cast,
  code: string,
];
interface Cast {
  seller: TestUser;
  buyer: TestUser;
  stranger: TestUser;
}

let cast: Cast;
let ids: {
  ticket: string;
  reservedTicket: string;
  pendingOrder: string;
  cancelledOrder: string;
  paidKey: string;
  email: string;
};

describe("bad input on every mutation, through the gateway", () => {
  beforeAll(async () => {
    // A small world to be refused against: a listed ticket, a pending order with a declined payment
    // under a key, and a cancelled order.
    const email = `taken.${uniqueWord()}@example.test`;
    const seller = await world.client.newUser("seller");
    const buyer = await world.client.newUser("buyer");
    const stranger = await world.client.newUser("stranger");
    await world.client.gql(
      `mutation ($e: String!, $p: String!) { signUp(input: { email: $e, password: $p }) { user { id } } }`,
      { e: email, p: PASSWORD },
    );
    cast = { seller, buyer, stranger };
    const ticket = await world.client.listTicket(seller, `Refusals ${uniqueWord()}`);
    const reservedTicket = await world.client.listTicket(seller, `Reserved ${uniqueWord()}`);
    const cancelledTicket = await world.client.listTicket(seller, `Cancelled ${uniqueWord()}`);
    const pending = (await world.client.createOrder(reservedTicket, buyer)).body.data?.createOrder as {
      id: string;
    };
    const cancelled = (await world.client.createOrder(cancelledTicket, buyer)).body.data?.createOrder as {
      id: string;
    };
    const cancel = await world.client.gql(
      `mutation ($id: ID!) { cancelOrder(id: $id) { status } }`,
      { id: cancelled.id },
      buyer.cookie,
    );
    expect(cancel.body.data).toEqual({ cancelOrder: { status: "CANCELLED" } });
    const paidKey = `declined-${pending.id}`;
    const declined = await world.client.pay(pending.id, "tok_decline", paidKey, buyer);
    expect(declined.body.data?.payForOrder).toMatchObject({ status: "FAILED" });
    // Every replica has caught up before the snapshot (payments knows the cancelled order too).
    await eventually(
      () =>
        sql(
          world.platform,
          "SELECT 1 FROM payments.order_replica WHERE order_id = $1 AND status = 'CANCELLED'",
          [cancelled.id],
        ),
      (rows) => rows.length === 1,
    );
    await eventually(
      () =>
        sql(world.platform, "SELECT 1 FROM tickets.tickets WHERE id = $1 AND status = 'RESERVED'", [
          reservedTicket,
        ]),
      (rows) => rows.length === 1,
    );
    ids = { ticket, reservedTicket, pendingOrder: pending.id, cancelledOrder: cancelled.id, paidKey, email };
  }, 120_000);

  it("each is refused with its typed error, and no table of any subgraph changes", async () => {
    const unknown = "0195b7c4-1111-7000-8000-000000000000";
    const SIGN_UP = `mutation ($e: String!, $p: String!) { signUp(input: { email: $e, password: $p }) { user { id } } }`;
    const SIGN_IN = `mutation ($e: String!, $p: String!) { signIn(input: { email: $e, password: $p }) { user { id } } }`;
    const CREATE_TICKET = `mutation ($t: String!, $p: Int!, $c: String!) { createTicket(input: { title: $t, priceMinor: $p, currency: $c }) { id } }`;
    const UPDATE_TICKET = `mutation ($id: ID!, $p: Int, $t: String, $c: String) { updateTicket(id: $id, input: { priceMinor: $p, title: $t, currency: $c }) { id } }`;
    const CREATE_ORDER = `mutation ($t: ID!) { createOrder(ticketId: $t) { id } }`;
    const CANCEL_ORDER = `mutation ($id: ID!) { cancelOrder(id: $id) { id } }`;
    const cases: Case[] = [
      [
        "signUp: malformed e-mail",
        SIGN_UP,
        { e: "not-an-email", p: PASSWORD },
        "anonymous",
        "BAD_USER_INPUT",
      ],
      [
        "signUp: password too short",
        SIGN_UP,
        { e: `short.${uniqueWord()}@example.test`, p: "short" },
        "anonymous",
        "BAD_USER_INPUT",
      ],
      [
        "signUp: e-mail already registered",
        SIGN_UP,
        { e: ids.email, p: PASSWORD },
        "anonymous",
        "BAD_USER_INPUT",
      ],
      [
        "signUp: password of the wrong type",
        SIGN_UP,
        { e: `t.${uniqueWord()}@example.test`, p: 12345678901234 },
        "anonymous",
        "BAD_USER_INPUT",
      ],
      [
        "signIn: wrong password",
        SIGN_IN,
        { e: ids.email, p: "not the password at all" },
        "anonymous",
        "UNAUTHENTICATED",
      ],
      [
        "signIn: unknown e-mail",
        SIGN_IN,
        { e: `nobody.${uniqueWord()}@example.test`, p: PASSWORD },
        "anonymous",
        "UNAUTHENTICATED",
      ],
      [
        "createTicket: signed out",
        CREATE_TICKET,
        { t: "Gig", p: 100, c: "EUR" },
        "anonymous",
        "UNAUTHENTICATED",
      ],
      [
        "createTicket: empty title",
        CREATE_TICKET,
        { t: "   ", p: 100, c: "EUR" },
        "seller",
        "BAD_USER_INPUT",
      ],
      [
        "createTicket: title too long",
        CREATE_TICKET,
        { t: "x".repeat(201), p: 100, c: "EUR" },
        "seller",
        "BAD_USER_INPUT",
      ],
      ["createTicket: price zero", CREATE_TICKET, { t: "Gig", p: 0, c: "EUR" }, "seller", "BAD_USER_INPUT"],
      [
        "createTicket: price negative",
        CREATE_TICKET,
        { t: "Gig", p: -5, c: "EUR" },
        "seller",
        "BAD_USER_INPUT",
      ],
      [
        "createTicket: price over the maximum",
        CREATE_TICKET,
        { t: "Gig", p: 100_000_001, c: "EUR" },
        "seller",
        "BAD_USER_INPUT",
      ],
      [
        "createTicket: price not an Int",
        CREATE_TICKET,
        { t: "Gig", p: 12.5, c: "EUR" },
        "seller",
        "BAD_USER_INPUT",
      ],
      [
        "createTicket: unknown currency",
        CREATE_TICKET,
        { t: "Gig", p: 100, c: "XYZ" },
        "seller",
        "BAD_USER_INPUT",
      ],
      ["updateTicket: signed out", UPDATE_TICKET, { id: ids.ticket, p: 1 }, "anonymous", "UNAUTHENTICATED"],
      [
        "updateTicket: malformed id",
        UPDATE_TICKET,
        { id: "42; DROP TABLE tickets", p: 1 },
        "seller",
        "BAD_USER_INPUT",
      ],
      ["updateTicket: unknown ticket", UPDATE_TICKET, { id: unknown, p: 1 }, "seller", "NOT_FOUND"],
      ["updateTicket: not the seller", UPDATE_TICKET, { id: ids.ticket, p: 1 }, "stranger", "FORBIDDEN"],
      ["updateTicket: bad price", UPDATE_TICKET, { id: ids.ticket, p: -1 }, "seller", "BAD_USER_INPUT"],
      ["updateTicket: empty title", UPDATE_TICKET, { id: ids.ticket, t: "" }, "seller", "BAD_USER_INPUT"],
      [
        "updateTicket: unknown currency",
        UPDATE_TICKET,
        { id: ids.ticket, c: "EURO" },
        "seller",
        "BAD_USER_INPUT",
      ],
      ["updateTicket: while reserved", UPDATE_TICKET, { id: ids.reservedTicket, p: 1 }, "seller", "CONFLICT"],
      ["createOrder: signed out", CREATE_ORDER, { t: ids.ticket }, "anonymous", "UNAUTHENTICATED"],
      ["createOrder: malformed id", CREATE_ORDER, { t: "ticket-1" }, "buyer", "BAD_USER_INPUT"],
      ["createOrder: unknown ticket", CREATE_ORDER, { t: unknown }, "buyer", "NOT_FOUND"],
      ["createOrder: own ticket", CREATE_ORDER, { t: ids.ticket }, "seller", "FORBIDDEN"],
      [
        "createOrder: ticket already reserved",
        CREATE_ORDER,
        { t: ids.reservedTicket },
        "stranger",
        "CONFLICT",
      ],
      ["cancelOrder: signed out", CANCEL_ORDER, { id: ids.pendingOrder }, "anonymous", "UNAUTHENTICATED"],
      ["cancelOrder: malformed id", CANCEL_ORDER, { id: "" }, "buyer", "BAD_USER_INPUT"],
      ["cancelOrder: unknown order", CANCEL_ORDER, { id: unknown }, "buyer", "NOT_FOUND"],
      ["cancelOrder: not the buyer", CANCEL_ORDER, { id: ids.pendingOrder }, "stranger", "FORBIDDEN"],
      ["cancelOrder: already cancelled", CANCEL_ORDER, { id: ids.cancelledOrder }, "buyer", "CONFLICT"],
      [
        "payForOrder: signed out",
        PAY,
        { o: ids.pendingOrder, t: "tok_success", k: "k-anon" },
        "anonymous",
        "UNAUTHENTICATED",
      ],
      [
        "payForOrder: malformed order id",
        PAY,
        { o: "order-1", t: "tok_success", k: "k-1" },
        "buyer",
        "BAD_USER_INPUT",
      ],
      ["payForOrder: empty token", PAY, { o: ids.pendingOrder, t: "", k: "k-2" }, "buyer", "BAD_USER_INPUT"],
      [
        "payForOrder: empty key",
        PAY,
        { o: ids.pendingOrder, t: "tok_success", k: "" },
        "buyer",
        "BAD_USER_INPUT",
      ],
      [
        "payForOrder: key too long",
        PAY,
        { o: ids.pendingOrder, t: "tok_success", k: "k".repeat(256) },
        "buyer",
        "BAD_USER_INPUT",
      ],
      [
        "payForOrder: key not printable ASCII",
        PAY,
        { o: ids.pendingOrder, t: "tok_success", k: "clé\n" },
        "buyer",
        "BAD_USER_INPUT",
      ],
      [
        "payForOrder: key reused with another token",
        PAY,
        { o: ids.pendingOrder, t: "tok_success", k: ids.paidKey },
        "buyer",
        "BAD_USER_INPUT",
      ],
      ["payForOrder: unknown order", PAY, { o: unknown, t: "tok_success", k: "k-3" }, "buyer", "NOT_FOUND"],
      [
        "payForOrder: not the buyer",
        PAY,
        { o: ids.pendingOrder, t: "tok_success", k: "k-4" },
        "stranger",
        "FORBIDDEN",
      ],
      [
        "payForOrder: cancelled order",
        PAY,
        { o: ids.cancelledOrder, t: "tok_success", k: "k-5" },
        "buyer",
        "CONFLICT",
      ],
    ];

    const before = await settled();
    for (const [name, query, variables, who, code] of cases) {
      const { res, body } = await world.client.gql(
        query,
        variables,
        who === "anonymous" ? undefined : cast[who].cookie,
      );
      const error = body.errors?.[0];
      expect(error?.extensions?.code, `${name}: ${JSON.stringify(body)}`).toBe(code);
      expect(error?.message, name).toMatch(/\S/);
      // One CONFLICT contract across subgraphs: a SCREAMING_SNAKE reason a client can branch on.
      if (code === "CONFLICT") expect(error?.extensions?.reason, name).toMatch(/^[A-Z][A-Z_]+$/);
      expect(body.data ?? null, name).toBeNull();
      expect(JSON.stringify(body), name).not.toMatch(
        /stacktrace|\bat \S+\.(ts|js):\d|Prisma|SQLSTATE|TypeError/,
      );
      // Refusals never set or clear a session.
      expect(res.headers.getSetCookie(), name).toEqual([]);
    }
    // signOut has no input to get wrong; without a session it answers false and writes nothing.
    expect((await world.client.gql("mutation { signOut }")).body.data).toEqual({ signOut: false });

    const after = await settled();
    expect(after).toEqual(before);
  });
});
