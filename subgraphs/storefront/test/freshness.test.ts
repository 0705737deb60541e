/**
 * How fresh the read model says it is (`storefrontFreshness`), and read-your-writes (`waitFor`) while
 * the read model is held back: an event the consumer has fetched but cannot apply (its table is
 * locked by another transaction) shows as lag, a read waiting for it answers the retryable
 * NOT_YET_REPLICATED and changes nothing, and once the lock is gone both recover.
 */
import { randomUUID } from "node:crypto";
import { createKafka } from "@boxoffice/events";
import { produceEvents } from "@boxoffice/events/testing";
import { tokenOf } from "@boxoffice/service-kit";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gql, kafkaBrokers, startHarness, ticketEvent, waitUntil, type Harness } from "./support/harness.ts";

let harness: Harness;

beforeAll(async () => {
  harness = await startHarness();
});
afterAll(async () => {
  await harness?.stop();
});

const FRESHNESS = `{ storefrontFreshness { ready lagEvents lagMs consumers { groupId ready lagEvents lagMs } } }`;

interface Freshness {
  ready: boolean;
  lagEvents: number;
  lagMs: number;
  consumers: { groupId: string; ready: boolean; lagEvents: number; lagMs: number }[];
}

async function freshness(): Promise<Freshness> {
  const { body } = await gql(harness, FRESHNESS);
  expect(body.errors).toBeUndefined();
  return body.data?.storefrontFreshness as Freshness;
}

const LISTING = `query ($s: String!, $w: ConsistencyToken) {
  listings(filter: { search: $s }, waitFor: $w) { edges { node { id title } } }
}`;

describe("storefrontFreshness and waitFor while the read model is held back", () => {
  it("reports the lag of an event it cannot apply yet, answers NOT_YET_REPLICATED meanwhile, and recovers", async () => {
    const sellerId = randomUUID();
    const word = `fresh${randomUUID()
      .slice(0, 8)
      .replace(/[^a-f]/g, "x")}`;
    const first = randomUUID();
    await harness.deliver([
      ticketEvent({
        ticketId: first,
        sellerId,
        version: 1,
        title: `First ${word}`,
        priceMinor: 100,
      }),
    ]);
    await waitUntil(async () => (await freshness()).ready);
    expect(await freshness()).toEqual({
      ready: true,
      lagEvents: 0,
      lagMs: 0,
      consumers: [{ groupId: `${harness.namespace}.read-model`, ready: true, lagEvents: 0, lagMs: 0 }],
    });

    // Hold the listings table: the consumer fetches the next event and waits on the lock.
    const blocker = new pg.Client({ connectionString: harness.db.url });
    await blocker.connect();
    const second = randomUUID();
    try {
      await blocker.query("BEGIN");
      await blocker.query("LOCK TABLE storefront.listings IN ACCESS EXCLUSIVE MODE");
      const kafka = createKafka({ clientId: "storefront-test", brokers: kafkaBrokers() });
      await produceEvents(kafka, harness.registry, [
        ticketEvent({
          ticketId: second,
          sellerId,
          version: 1,
          title: `Second ${word}`,
          priceMinor: 200,
        }),
      ]);
      await waitUntil(async () => {
        const f = await freshness();
        return f.lagEvents >= 1 && f.lagMs > 0;
      });
      const behind = await freshness();
      expect(behind.consumers[0]).toMatchObject({ lagEvents: behind.lagEvents, lagMs: behind.lagMs });

      const notYet = await gql(harness, LISTING, { s: word, w: tokenOf("ticket", second, 1) });
      expect(notYet.body.errors?.[0]?.extensions).toEqual({
        code: "SERVICE_UNAVAILABLE",
        retryable: true,
        reason: "NOT_YET_REPLICATED",
      });
      expect(notYet.body.data ?? null).toBeNull();
    } finally {
      await blocker.query("ROLLBACK");
      await blocker.end();
    }

    // Lock gone: the same read answers with the new listing at once, and the lag is gone.
    const caughtUp = await gql(harness, LISTING, { s: word, w: tokenOf("ticket", second, 1) });
    expect(caughtUp.body.errors).toBeUndefined();
    expect(caughtUp.body.data?.listings).toEqual({
      edges: [
        { node: { id: second, title: `Second ${word}` } },
        { node: { id: first, title: `First ${word}` } },
      ],
    });
    await waitUntil(async () => (await freshness()).lagEvents === 0);
    expect((await freshness()).lagMs).toBe(0);
  });
});
