/**
 * Read-your-writes (consistency.ts): the opaque wire form of tokens, and `ReadYourWrites` deciding
 * from a real inbox table whether a service's consumer groups have applied a write.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  decodeConsistencyToken,
  encodeConsistencyToken,
  pgExecutor,
  ReadYourWrites,
  type ConsistencyToken,
} from "../src/index.ts";
import { testSchema, type TestSchema } from "./helpers.ts";

let db: TestSchema;
beforeAll(async () => {
  db = await testSchema("ryw");
});
afterAll(async () => {
  await db?.drop();
});

/** An inbox row, as a consumer writes it when it applies an event. */
async function applied(group: string, aggregateType: string, aggregateId: string, version: number) {
  await db.pool.query(
    `INSERT INTO event_inbox (consumer_group, event_id, event_type, aggregate_type, aggregate_id,
       aggregate_version, topic, kafka_partition, kafka_offset)
     VALUES ($1, $2, $3, $4, $5, $6, 't', 0, 0)`,
    [group, randomUUID(), `${aggregateType}.changed`, aggregateType, aggregateId, version],
  );
}

describe("consistency tokens on the wire", () => {
  it("round-trip one or several writes, opaque (ct1. + base64url)", () => {
    const writes: ConsistencyToken[] = [
      { aggregateType: "payment", aggregateId: randomUUID(), version: 1 },
      { aggregateType: "order", aggregateId: randomUUID(), version: 2 },
    ];
    const token = encodeConsistencyToken(writes);
    expect(token).toMatch(/^ct1\.[A-Za-z0-9_-]+$/);
    expect(token).not.toContain(writes[0]!.aggregateId);
    expect(decodeConsistencyToken(token)).toEqual(writes);
  });

  it("refuse anything else: undefined, never a throw", () => {
    const valid = encodeConsistencyToken([{ aggregateType: "ticket", aggregateId: "abc", version: 3 }]);
    const tooMany = encodeConsistencyToken(
      Array.from({ length: 8 }, (_, i) => ({ aggregateType: "ticket", aggregateId: `t${i}`, version: 1 })),
    ).replace(/^ct1\./, "");
    for (const bad of [
      "",
      42,
      null,
      valid.slice(4), // no prefix
      `ct2.${valid.slice(4)}`,
      "ct1.",
      "ct1.!!!",
      `ct1.${Buffer.from("ticket:abc:0").toString("base64url")}`, // version 0
      `ct1.${Buffer.from("ticket:abc:1,").toString("base64url")}`, // an empty write
      `ct1.${Buffer.from(`${Buffer.from(tooMany, "base64url").toString()},ticket:x:1`).toString("base64url")}`,
      `ct1.${"A".repeat(3000)}`,
    ]) {
      expect(decodeConsistencyToken(bad), JSON.stringify(bad)).toBeUndefined();
    }
    expect(() => encodeConsistencyToken([])).toThrow();
  });
});

describe("ReadYourWrites over a real inbox", () => {
  it("a write is applied once every group applying its type holds that version or a later one", async () => {
    const ticket = randomUUID();
    const ryw = new ReadYourWrites(
      pgExecutor(db.pool),
      [
        { groupId: "svc.ticket-replica", aggregateTypes: ["ticket"] },
        { groupId: "svc.read-model", aggregateTypes: ["ticket", "order"] },
        { groupId: "svc.payments", aggregateTypes: ["payment"] },
      ],
      { timeoutMs: 200 },
    );
    const v2 = [{ aggregateType: "ticket", aggregateId: ticket, version: 2 }];
    expect(await ryw.applied(v2)).toBe(false);
    await applied("svc.ticket-replica", "ticket", ticket, 1);
    await applied("svc.ticket-replica", "ticket", ticket, 2);
    expect(await ryw.applied(v2)).toBe(false); // the read model has not
    await applied("svc.read-model", "ticket", ticket, 3); // a later version covers it
    await applied("other.group", "ticket", randomUUID(), 9);
    expect(await ryw.applied(v2)).toBe(true);
    expect(await ryw.waitFor(v2)).toBe(true);
    // Version 4 is never applied: the wait ends false at its bound.
    expect(await ryw.waitFor([{ aggregateType: "ticket", aggregateId: ticket, version: 4 }])).toBe(false);
    // A type none of the groups applies (the service's own aggregate) is visible at once.
    expect(await ryw.applied([{ aggregateType: "user", aggregateId: "u1", version: 7 }])).toBe(true);
  });

  it("waits until a write arrives within the bound", async () => {
    const order = randomUUID();
    const ryw = new ReadYourWrites(
      pgExecutor(db.pool),
      [{ groupId: "svc.orders", aggregateTypes: ["order"] }],
      {
        timeoutMs: 10_000,
      },
    );
    const waiting = ryw.waitFor([{ aggregateType: "order", aggregateId: order, version: 1 }]);
    await applied("svc.orders", "order", order, 1);
    expect(await waiting).toBe(true);
  });
});
