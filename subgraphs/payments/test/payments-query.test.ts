/**
 * Reading payments: `payment(id)` and the `Payment` entity (`_entities`), both for the buyer only,
 * and session revocation (a signed-out session's token is refused by payments through the real
 * accounts → Kafka → denylist path).
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  gql,
  openOrder,
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

beforeAll(async () => {
  harness = await startHarness();
  [buyer, other] = await Promise.all([signUp(), signUp()]);
});
afterAll(async () => {
  await harness?.stop();
});

const FIELDS = "id status amountMinor currency failureReason order { id } buyer { id }";
const PAYMENT = `query ($id: ID!) { payment(id: $id) { ${FIELDS} } }`;
const ENTITIES = `query ($r: [_Any!]!) { _entities(representations: $r) { ... on Payment { ${FIELDS} } } }`;

async function newPayment(user: TestUser, token = "tok_success"): Promise<{ id: string; orderId: string }> {
  const orderId = await openOrder(harness, user);
  const { body } = await gql(
    harness,
    `mutation ($o: ID!, $t: String!, $k: String!) { payForOrder(orderId: $o, paymentToken: $t, idempotencyKey: $k) { id } }`,
    { o: orderId, t: token, k: randomUUID() },
    user,
  );
  const payment = body.data?.payForOrder as { id: string } | undefined;
  if (!payment) throw new Error(`payForOrder failed: ${JSON.stringify(body.errors)}`);
  return { id: payment.id, orderId };
}

describe("payment(id)", () => {
  it("the buyer reads their payment; another user and an unknown id get null; malformed is BAD_USER_INPUT; anonymous is UNAUTHENTICATED", async () => {
    const { id, orderId } = await newPayment(buyer, "tok_decline");
    const expected = {
      id,
      status: "FAILED",
      amountMinor: 8_500,
      currency: "EUR",
      failureReason: "card_declined",
      order: { id: orderId },
      buyer: { id: buyer.id },
    };
    expect((await gql(harness, PAYMENT, { id }, buyer)).body.data).toEqual({ payment: expected });
    expect((await gql(harness, PAYMENT, { id: id.toUpperCase() }, buyer)).body.data).toEqual({
      payment: expected,
    });
    expect((await gql(harness, PAYMENT, { id }, other)).body.data).toEqual({ payment: null });
    expect((await gql(harness, PAYMENT, { id: randomUUID() }, buyer)).body.data).toEqual({ payment: null });
    const malformed = await gql(harness, PAYMENT, { id: "42" }, buyer);
    expect(malformed.body.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "id" });
    const anonymous = await gql(harness, PAYMENT, { id });
    expect(anonymous.body.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });
});

describe("Payment entity", () => {
  it("_entities resolves Payment by @key id for its buyer; unknown, malformed, another buyer's and anonymous are null", async () => {
    const mine = await newPayment(buyer);
    const theirs = await newPayment(other);
    const representations = [
      { __typename: "Payment", id: mine.id },
      { __typename: "Payment", id: theirs.id },
      { __typename: "Payment", id: randomUUID() },
      { __typename: "Payment", id: "not-a-uuid" },
    ];
    const { body } = await gql(harness, ENTITIES, { r: representations }, buyer);
    expect(body.errors).toBeUndefined();
    expect(body.data).toEqual({
      _entities: [
        {
          id: mine.id,
          status: "SUCCEEDED",
          amountMinor: 8_500,
          currency: "EUR",
          failureReason: null,
          order: { id: mine.orderId },
          buyer: { id: buyer.id },
        },
        null,
        null,
        null,
      ],
    });
    const anonymous = await gql(harness, ENTITIES, { r: representations.slice(0, 1) });
    expect(anonymous.body.data).toEqual({ _entities: [null] });
  });

  it("50 references cost one SQL query (DataLoader batching)", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i += 1) ids.push((await newPayment(buyer)).id);
    harness.queries.length = 0;
    const { body } = await gql(
      harness,
      ENTITIES,
      { r: Array.from({ length: 50 }, (_, i) => ({ __typename: "Payment", id: ids[i % ids.length] })) },
      buyer,
    );
    expect((body.data?._entities as unknown[]).filter(Boolean)).toHaveLength(50);
    expect(harness.queries.filter((q) => /FROM "payments"\."payments"/.test(q))).toHaveLength(1);
  });
});

describe("session revocation", () => {
  it("after signOut on accounts, payments refuses the session's token with UNAUTHENTICATED (REVOKED)", async () => {
    await waitUntil(() => harness.app.denylist.status().ready, 30_000, "denylist consumer joined");
    const user = await signUp();
    const { id } = await newPayment(user);
    expect((await gql(harness, PAYMENT, { id }, user)).body.errors).toBeUndefined();
    await signOut(user);
    await waitUntil(
      async () =>
        (await gql(harness, PAYMENT, { id }, user)).body.errors?.[0]?.extensions?.code === "UNAUTHENTICATED",
      10_000,
      "revoked token refused",
    );
    const refused = await gql(harness, PAYMENT, { id }, user);
    expect(refused.res.status).toBe(401);
    expect(refused.body.errors?.[0]?.extensions).toMatchObject({
      code: "UNAUTHENTICATED",
      reason: "REVOKED",
    });
  });
});
