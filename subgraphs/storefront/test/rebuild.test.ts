/**
 * Rebuilding the read model from the topics (packages/events `rebuildReadModel`): after the tables are
 * emptied and every topic replayed under a new group, the storefront answers exactly as before, and
 * live consumption continues under the rebuild's group.
 */
import { randomUUID } from "node:crypto";
import { createKafka } from "@boxoffice/events";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createPrisma } from "../src/db.ts";
import { lockForRebuild, ReadModelBusyError } from "../src/events/read-model-lock.ts";
import { markRebuilding, markRebuilt, UnfinishedRebuildError } from "../src/events/read-model-state.ts";
import { READ_MODEL_TABLES, rebuildStorefront } from "../src/events/rebuild.ts";
import {
  gql,
  kafkaBrokers,
  orderEvent,
  paymentEvent,
  signUp,
  startHarness,
  ticketEvent,
  userEvent,
  type Harness,
  type TestUser,
} from "./support/harness.ts";

let harness: Harness;
let seller: TestUser;
let buyer: TestUser;

beforeAll(async () => {
  harness = await startHarness();
  [seller, buyer] = await Promise.all([signUp(), signUp()]);
});
afterAll(async () => {
  await harness?.stop();
});

const ANSWERS = `query ($users: [_Any!]!, $tickets: [_Any!]!) {
  listings(first: 100) { edges { cursor node { id title priceMinor currency availability seller { id } } } hasNextPage }
  available: listings(filter: { onlyAvailable: true, search: "live" }, first: 2) { edges { cursor } endCursor hasNextPage }
  users: _entities(representations: $users) {
    ... on User { id orders { orderId status amount { amountMinor currency } ticketTitle placedAt } sales { items { orderId amount { amountMinor } } totalRevenue { amountMinor currency } } }
  }
  tickets: _entities(representations: $tickets) { ... on Ticket { id availability } }
}`;

async function answers(user: TestUser, ticketIds: string[]) {
  const { body } = await gql(
    harness,
    ANSWERS,
    {
      users: [{ __typename: "User", id: user.id }],
      tickets: ticketIds.map((id) => ({ __typename: "Ticket", id })),
    },
    user,
  );
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

/** Every row of every read-model table, in key order. */
async function tables(): Promise<Record<string, Array<Record<string, unknown>>>> {
  const dumps = await Promise.all(
    READ_MODEL_TABLES.map(
      async (t) => [t, await harness.sql(`SELECT * FROM storefront.${t} ORDER BY id`)] as const,
    ),
  );
  return Object.fromEntries(dumps);
}

it("empties the tables, replays every topic, and answers exactly as before", async () => {
  const tickets = Array.from({ length: 12 }, () => randomUUID());
  const events = [userEvent(seller.id), userEvent(buyer.id)];
  tickets.forEach((ticketId, n) => {
    const base = {
      ticketId,
      sellerId: seller.id,
      title: `Live show number ${n}`,
      priceMinor: 1_000 + n * 100,
      occurredAt: new Date(Date.UTC(2026, 5, 1, 0, n)),
    };
    events.push(ticketEvent({ ...base, version: 1 }));
    if (n % 3 === 0) events.push(ticketEvent({ ...base, version: 2, priceMinor: 999 }));
  });
  for (const [n, ticketId] of tickets.slice(0, 6).entries()) {
    const orderId = randomUUID();
    const o = { orderId, ticketId, buyerId: buyer.id, amountMinor: 1_000 + n * 100 };
    events.push(
      orderEvent({
        ...o,
        status: "PENDING",
        version: 1,
        occurredAt: new Date(Date.UTC(2026, 5, 2, 0, n)),
      }),
    );
    if (n % 2 === 0) {
      const paymentId = randomUUID();
      events.push(
        paymentEvent("payment.succeeded", {
          paymentId,
          orderId,
          version: 2,
          amountMinor: o.amountMinor,
        }),
      );
      events.push(orderEvent({ ...o, status: "COMPLETED", version: 2 }));
    } else if (n === 1) {
      events.push(paymentEvent("payment.failed", { paymentId: randomUUID(), orderId, version: 1 }));
      events.push(orderEvent({ ...o, status: "CANCELLED", version: 2 }));
    }
  }
  await harness.deliver(events);

  const before = {
    buyer: await answers(buyer, tickets),
    seller: await answers(seller, tickets),
    tables: await tables(),
  };
  expect(before.tables.payments).toHaveLength(4);
  expect(before.tables.users).toHaveLength(2);

  // Serving and rebuilding exclude each other (read-model-lock.ts), whichever comes first.
  await expect(lockForRebuild(harness.db.url, 0)).rejects.toThrow(ReadModelBusyError);
  await harness.stopApp();
  const rebuildLock = await lockForRebuild(harness.db.url, 5_000);
  await expect(harness.restart()).rejects.toThrow(ReadModelBusyError);
  await rebuildLock.release();
  const prisma = createPrisma(harness.db.url);
  try {
    const kafka = createKafka({ clientId: "storefront-rebuild-test", brokers: kafkaBrokers() });
    // What the rebuild command does: flag the rebuild (a storefront started meanwhile refuses the
    // half-built tables), rebuild, record the new group; the next start continues under it.
    await markRebuilding(prisma, `${harness.namespace}.read-model`);
    await expect(harness.restart()).rejects.toThrow(UnfinishedRebuildError);
    const result = await rebuildStorefront({
      kafka,
      prisma,
      registry: harness.registry,
      service: harness.namespace,
    });
    expect(result.messages).toBe(events.length);
    expect(result.counts.applied).toBe(events.length);
    expect(result.groupId.startsWith(`${harness.namespace}.read-model.rebuild-`)).toBe(true);
    await markRebuilt(prisma, result.groupId);

    await harness.restart();
    expect(harness.app.readModel.status().groupId).toBe(result.groupId);
    expect({
      buyer: await answers(buyer, tickets),
      seller: await answers(seller, tickets),
      tables: await tables(),
    }).toEqual(before);

    // Live consumption continues under the rebuild's group, from where the rebuild stopped.
    const late = randomUUID();
    await harness.deliver([ticketEvent({ ticketId: late, sellerId: seller.id, version: 1 })]);
    expect(await harness.sql("SELECT id::text FROM storefront.listings WHERE id = $1", [late])).toEqual([
      { id: late },
    ]);
    expect(harness.app.readModel.status().counts.applied).toBe(1);
  } finally {
    await prisma.$disconnect();
  }
});
