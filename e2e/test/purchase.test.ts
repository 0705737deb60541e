/**
 * Part-2 journeys that need no storefront: purchase (order → ticket reserved → pay → order
 * COMPLETED → ticket SOLD), decline then pay, and expiry (order CANCELLED → ticket available →
 * another buyer orders it; paying the cancelled order is refused). Every process real; the only
 * stand-in is the built-in sandbox payment provider (outside the system by design).
 */
import { startPlatform, type Platform } from "@boxoffice/platform";
import { graphqlRequest } from "@boxoffice/service-kit/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let platform: Platform;

beforeAll(async () => {
  platform = await startPlatform({
    adminDatabaseUrl: process.env.DATABASE_URL!,
    kafkaBrokers: process.env.KAFKA_BROKERS!,
    processEnv: { orders: { ORDER_EXPIRATION_SECONDS: "4", ORDER_EXPIRATION_POLL_MS: "200" } },
  });
});
afterAll(async () => {
  await platform?.stop();
});

const gql = (query: string, variables: Record<string, unknown>, cookie?: string) =>
  graphqlRequest(platform.gatewayUrl, query, variables, cookie ? { cookie } : {});

async function newUser(): Promise<string> {
  const email = `buyer.${Date.now()}.${Math.random().toString(36).slice(2)}@example.test`;
  const { res } = await gql(
    `mutation ($e: String!) { signUp(input: { email: $e, password: "correct horse battery staple" }) { user { id } } }`,
    { e: email },
  );
  return res.headers.getSetCookie()[0]!.split(";")[0]!;
}

async function listTicket(seller: string, priceMinor = 4500): Promise<string> {
  const { body } = await gql(
    `mutation ($p: Int!) { createTicket(input: { title: "Purchase journey", priceMinor: $p, currency: "EUR" }) { id } }`,
    { p: priceMinor },
    seller,
  );
  return (body.data?.createTicket as { id: string }).id;
}

/** Polls `read` until `done` holds or the deadline passes (events travel through Kafka). */
async function eventually<T>(
  read: () => Promise<T>,
  done: (v: T) => boolean,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!done(value) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    value = await read();
  }
  return value;
}

/** The version of a ticket in the orders subgraph's replica (observed, never written). */
async function replicaVersion(ticketId: string): Promise<number> {
  const client = new pg.Client({ connectionString: platform.databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ version: number }>(
      "SELECT version FROM orders.ticket_replica WHERE id = $1",
      [ticketId],
    );
    return rows[0]?.version ?? 0;
  } finally {
    await client.end();
  }
}

const ticketStatus = async (id: string) =>
  (
    (await gql(`query ($id: ID!) { ticket(id: $id) { status } }`, { id })).body.data?.ticket as {
      status: string;
    }
  ).status;

/** Orders can only be placed once the orders subgraph's ticket replica has the ticket. */
async function createOrder(ticketId: string, buyer: string) {
  return eventually(
    () =>
      gql(
        `mutation ($t: ID!) { createOrder(ticketId: $t) { id status amountMinor currency } }`,
        { t: ticketId },
        buyer,
      ),
    (r) => r.body.errors?.[0]?.extensions?.code !== "NOT_FOUND",
  );
}

const PAY = `mutation ($o: ID!, $t: String!, $k: String!) {
  payForOrder(orderId: $o, paymentToken: $t, idempotencyKey: $k) { id status amountMinor failureReason }
}`;

describe("purchase journeys through the gateway", () => {
  it("order reserves the ticket, the seller can't edit it, payment completes the order and sells the ticket", async () => {
    const seller = await newUser();
    const buyer = await newUser();
    const ticketId = await listTicket(seller, 4500);
    // A price change before ordering is what the order is charged.
    await gql(
      `mutation ($id: ID!) { updateTicket(id: $id, input: { priceMinor: 4800 }) { version } }`,
      { id: ticketId },
      seller,
    );
    // Ordering uses the orders subgraph's replica: wait until it holds version 2, then order.
    expect(
      await eventually(
        () => replicaVersion(ticketId),
        (v) => v >= 2,
      ),
    ).toBe(2);
    const ordered = await createOrder(ticketId, buyer);
    const order = ordered.body.data?.createOrder as {
      id: string;
      status: string;
      amountMinor: number;
      currency: string;
    };
    expect(order).toMatchObject({ status: "PENDING", amountMinor: 4800, currency: "EUR" });

    expect(
      await eventually(
        () => ticketStatus(ticketId),
        (s) => s === "RESERVED",
      ),
    ).toBe("RESERVED");
    const edit = await gql(
      `mutation ($id: ID!) { updateTicket(id: $id, input: { priceMinor: 1 }) { id } }`,
      { id: ticketId },
      seller,
    );
    expect(edit.body.errors?.[0]?.extensions?.code).toBe("CONFLICT");

    const paid = await eventually(
      () => gql(PAY, { o: order.id, t: "tok_success", k: `pay-${order.id}` }, buyer),
      (r) => r.body.errors?.[0]?.extensions?.code !== "NOT_FOUND", // payments' order replica catching up
    );
    expect(paid.body.data?.payForOrder).toMatchObject({ status: "SUCCEEDED", amountMinor: 4800 });

    const completed = await eventually(
      () => gql(`query ($id: ID!) { order(id: $id) { status } }`, { id: order.id }, buyer),
      (r) => (r.body.data?.order as { status: string } | undefined)?.status === "COMPLETED",
    );
    expect(completed.body.data?.order).toEqual({ status: "COMPLETED" });
    expect(
      await eventually(
        () => ticketStatus(ticketId),
        (s) => s === "SOLD",
      ),
    ).toBe("SOLD");
  });

  it("a declined token leaves the order open; a new key then pays it", async () => {
    const seller = await newUser();
    const buyer = await newUser();
    const ticketId = await listTicket(seller);
    const order = (await createOrder(ticketId, buyer)).body.data?.createOrder as { id: string };
    const declined = await eventually(
      () => gql(PAY, { o: order.id, t: "tok_decline", k: `decline-${order.id}` }, buyer),
      (r) => r.body.errors?.[0]?.extensions?.code !== "NOT_FOUND",
    );
    expect(declined.body.data?.payForOrder).toMatchObject({ status: "FAILED" });
    const still = await gql(`query ($id: ID!) { order(id: $id) { status } }`, { id: order.id }, buyer);
    expect(still.body.data?.order).toEqual({ status: "PENDING" });
    const paid = await gql(PAY, { o: order.id, t: "tok_success", k: `retry-${order.id}` }, buyer);
    expect(paid.body.data?.payForOrder).toMatchObject({ status: "SUCCEEDED" });
  });

  it("an unpaid order expires: CANCELLED, ticket available again, another buyer orders it, paying the old order is refused", async () => {
    const seller = await newUser();
    const first = await newUser();
    const second = await newUser();
    const ticketId = await listTicket(seller);
    const order = (await createOrder(ticketId, first)).body.data?.createOrder as { id: string };
    const cancelled = await eventually(
      () => gql(`query ($id: ID!) { order(id: $id) { status } }`, { id: order.id }, first),
      (r) => (r.body.data?.order as { status: string } | undefined)?.status === "CANCELLED",
    );
    expect(cancelled.body.data?.order).toEqual({ status: "CANCELLED" });
    expect(
      await eventually(
        () => ticketStatus(ticketId),
        (s) => s === "AVAILABLE",
      ),
    ).toBe("AVAILABLE");
    const again = await createOrder(ticketId, second);
    expect(again.body.data?.createOrder).toMatchObject({ status: "PENDING" });
    const late = await eventually(
      () => gql(PAY, { o: order.id, t: "tok_success", k: `late-${order.id}` }, first),
      (r) => r.body.errors?.[0]?.extensions?.code === "CONFLICT",
    );
    expect(late.body.errors?.[0]?.extensions?.code).toBe("CONFLICT");
    expect(late.body.data ?? null).toBeNull();
  });
});
