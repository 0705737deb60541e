/**
 * The Order entity (`@key(fields: "id")`) through `_entities`, as the gateway calls it: the buyer's
 * orders resolve (many references in one SQL query), anything else — someone else's order, an unknown
 * or malformed id, an anonymous caller — resolves to null, so `_entities` reveals no one's orders.
 * Also: the session denylist, as in tickets (a signed-out session is refused).
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createOrder,
  gql,
  listTickets,
  signOut,
  signUp,
  startHarness,
  waitUntil,
  type Harness,
  type TestUser,
} from "./support/harness.ts";

let harness: Harness;
let buyer: TestUser;
let other: TestUser;
const seller = randomUUID();

beforeAll(async () => {
  harness = await startHarness();
  [buyer, other] = await Promise.all([signUp(), signUp()]);
});
afterAll(async () => {
  await harness?.stop();
});

const ENTITIES = `query ($representations: [_Any!]!) {
  _entities(representations: $representations) {
    ... on Order { id status amountMinor currency version buyer { id } ticket { id } }
  }
}`;

const ref = (id: string) => ({ __typename: "Order", id });

describe("_entities for Order", () => {
  it("resolves the buyer's orders in request order; other users' and unknown or malformed ids are null", async () => {
    const tickets = await listTickets(harness, seller, 3);
    const mine = [];
    for (const ticketId of tickets.slice(0, 2)) mine.push(await createOrder(harness, buyer, ticketId));
    const theirs = await createOrder(harness, other, tickets[2]!);
    const representations = [
      ref(mine[1]!.id),
      ref(theirs.id),
      ref(randomUUID()),
      ref("nope"),
      ref(mine[0]!.id),
    ];
    const { body } = await gql(harness, ENTITIES, { representations }, buyer);
    expect(body.errors).toBeUndefined();
    expect(body.data?._entities).toEqual([
      {
        id: mine[1]!.id,
        status: "PENDING",
        amountMinor: 8_500,
        currency: "EUR",
        version: 1,
        buyer: { id: buyer.id },
        ticket: { id: tickets[1] },
      },
      null,
      null,
      null,
      expect.objectContaining({ id: mine[0]!.id, ticket: { id: tickets[0] } }),
    ]);
  });

  it("an anonymous caller gets null for every order", async () => {
    const [ticketId] = await listTickets(harness, seller);
    const order = await createOrder(harness, buyer, ticketId!);
    const { body } = await gql(harness, ENTITIES, { representations: [ref(order.id)] });
    expect(body).toEqual({ data: { _entities: [null] } });
  });
});

describe("session denylist", () => {
  it("after signOut on accounts, the session's token is refused with UNAUTHENTICATED (REVOKED)", async () => {
    await waitUntil(() => harness.app.denylist.status().ready, 30_000, "denylist consumer joined");
    const user = await signUp();
    const probe = "{ myOrders(first: 1) { id } }";
    expect((await gql(harness, probe, {}, user)).body.errors).toBeUndefined();
    await signOut(user);
    await waitUntil(
      async () =>
        (await gql(harness, probe, {}, user)).body.errors?.[0]?.extensions?.code === "UNAUTHENTICATED",
      15_000,
      "revoked token refused",
    );
    const refused = await gql(harness, probe, {}, user);
    expect(refused.res.status).toBe(401);
    expect(refused.body.errors?.[0]?.extensions).toMatchObject({
      code: "UNAUTHENTICATED",
      reason: "REVOKED",
    });
  });
});
