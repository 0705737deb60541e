import { randomUUID } from "node:crypto";
import { pgExecutor, pgTransactions, type PgTransaction } from "@boxoffice/events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSessionDenylist, REVOKED_SESSIONS_SCHEMA, type SessionDenylist } from "../src/denylist.ts";
import { waitUntil } from "../src/testing-accounts.ts";
import { useReplicaBed } from "./support/replica-bed.ts";

const bed = useReplicaBed("denylist", REVOKED_SESSIONS_SCHEMA);
const { id, registry, kafka, publisher, outcomes, produce } = bed;
let denylist: SessionDenylist;

beforeAll(async () => {
  denylist = createSessionDenylist<PgTransaction>({
    service: `denylist-test-${id}`,
    kafka,
    db: pgExecutor(bed.pool),
    transaction: pgTransactions(bed.pool),
    registry,
    cacheMaxEntries: 2,
    onOutcome: (outcome) => outcomes.push(outcome),
  });
  await denylist.start();
});

afterAll(async () => {
  await denylist?.stop();
});

function revokedEvent(sessionId: string, userId: string = randomUUID()) {
  return publisher.createEnvelope({
    type: "session.revoked",
    schemaVersion: 1,
    aggregateId: sessionId,
    aggregateVersion: 1,
    data: { sessionId, userId, revokedAt: new Date().toISOString() },
  });
}

async function rows(sessionId: string): Promise<number> {
  const result = await bed.pool.query("SELECT 1 FROM revoked_sessions WHERE session_id = $1", [sessionId]);
  return result.rowCount ?? 0;
}

describe("session denylist", () => {
  it("a session.revoked event makes isRevoked true; the same event delivered twice is one row", async () => {
    await waitUntil(() => denylist.status().ready);
    const sessionId = randomUUID();
    expect(await denylist.isRevoked(sessionId)).toBe(false);
    const event = revokedEvent(sessionId);
    await produce(event);
    const elapsed = await waitUntil(() => denylist.isRevoked(sessionId));
    console.log(`denylist: Kafka produce → isRevoked true in ${elapsed.toFixed(0)} ms`);
    await produce(event);
    await waitUntil(() => outcomes.some((o) => o.eventId === event.eventId && o.kind === "duplicate"));
    expect(await rows(sessionId)).toBe(1);
  });

  it("never caches 'not revoked': a row written directly is seen by the next call", async () => {
    const sessionId = randomUUID();
    expect(await denylist.isRevoked(sessionId)).toBe(false);
    await denylist.record(pgExecutor(bed.pool), { sessionId, userId: randomUUID(), revokedAt: new Date() });
    expect(await denylist.isRevoked(sessionId)).toBe(true);
  });

  it("caches 'revoked' (bounded): a cached positive survives the row's deletion until evicted", async () => {
    const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
    for (const sessionId of [a, b, c]) {
      await denylist.record(pgExecutor(bed.pool), { sessionId, userId: randomUUID(), revokedAt: new Date() });
    }
    expect(await denylist.isRevoked(a)).toBe(true);
    await bed.pool.query("DELETE FROM revoked_sessions WHERE session_id = $1", [a]);
    expect(await denylist.isRevoked(a)).toBe(true); // from the cache
    // Cache bound is 2 here: two other positives evict `a`, and the table no longer has it.
    expect(await denylist.isRevoked(b)).toBe(true);
    expect(await denylist.isRevoked(c)).toBe(true);
    expect(await denylist.isRevoked(a)).toBe(false);
  });

  it("record is idempotent; a session id that is not a UUID is refused (fail closed)", async () => {
    const sessionId = randomUUID();
    const revocation = { sessionId, userId: randomUUID(), revokedAt: new Date().toISOString() };
    expect(await denylist.record(pgExecutor(bed.pool), revocation)).toBe(true);
    expect(await denylist.record(pgExecutor(bed.pool), revocation)).toBe(false);
    expect(await denylist.isRevoked("session-1")).toBe(true);
  });

  it("dead-letters a session.revoked whose ids are not UUIDs instead of retrying it", async () => {
    const event = revokedEvent("not-a-uuid", "user-1");
    await produce(event);
    await waitUntil(() => outcomes.some((o) => o.eventId === event.eventId));
    expect(outcomes.find((o) => o.eventId === event.eventId)).toMatchObject({
      kind: "dead-lettered",
      attempts: 1,
    });
  });

  it("prune deletes revocations older than the given time", async () => {
    const old = randomUUID();
    await denylist.record(pgExecutor(bed.pool), {
      sessionId: old,
      userId: randomUUID(),
      revokedAt: new Date(Date.now() - 2 * 86_400_000),
    });
    const deleted = await denylist.prune(new Date(Date.now() - 86_400_000));
    expect(deleted).toBeGreaterThanOrEqual(1);
    expect(await rows(old)).toBe(0);
  });
});
