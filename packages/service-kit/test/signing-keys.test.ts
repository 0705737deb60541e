import { generateSigningKey, type SigningKey } from "@boxoffice/auth-verify";
import { pgExecutor, pgTransactions, type MessageOutcome, type PgTransaction } from "@boxoffice/events";
import { beforeAll, afterAll, describe, expect, it } from "vitest";
import { createSigningKeyReplica, SIGNING_KEYS_SCHEMA, type SigningKeyReplica } from "../src/signing-keys.ts";
import { waitUntil } from "../src/testing-accounts.ts";
import { useReplicaBed } from "./support/replica-bed.ts";

const bed = useReplicaBed("signing_keys", SIGNING_KEYS_SCHEMA);
const { id, registry, kafka, publisher, outcomes, produce } = bed;
let replica: SigningKeyReplica;
/**
 * A second replica of the same service (another process in production): same table, same consumer
 * group, so each event reaches only one of the two and the other learns it from the table.
 */
let sibling: SigningKeyReplica;

beforeAll(async () => {
  const common = { kafka, db: pgExecutor(bed.pool), transaction: pgTransactions(bed.pool), registry };
  const service = `signing-keys-test-${id}`;
  const onOutcome = (outcome: MessageOutcome) => outcomes.push(outcome);
  replica = createSigningKeyReplica<PgTransaction>({ ...common, service, onOutcome });
  sibling = createSigningKeyReplica<PgTransaction>({ ...common, service, onOutcome });
  await Promise.all([replica.start(), sibling.start()]);
});

afterAll(async () => {
  await Promise.all([replica?.stop(), sibling?.stop()]);
});

const PUBLISHED_AT = "2026-12-02T10:00:00.000Z";

/** The public JWK as the contract types it (jose's JWK type has every member optional). */
const publicJwkOf = (key: SigningKey) => ({ ...key.publicJwk, kty: "OKP" as const, kid: key.kid });

function published(key: SigningKey) {
  return publisher.createEnvelope({
    type: "signing-key.published",
    schemaVersion: 1,
    aggregateId: key.kid,
    aggregateVersion: 1,
    data: { kid: key.kid, publicJwk: publicJwkOf(key), status: "PUBLISHED", publishedAt: PUBLISHED_AT },
  });
}

function retired(key: SigningKey) {
  return publisher.createEnvelope({
    type: "signing-key.retired",
    schemaVersion: 1,
    aggregateId: key.kid,
    aggregateVersion: 2,
    data: {
      kid: key.kid,
      publicJwk: publicJwkOf(key),
      status: "RETIRED",
      publishedAt: PUBLISHED_AT,
      retiredAt: new Date().toISOString(),
    },
  });
}

async function rowOf(kid: string) {
  const { rows } = await bed.pool.query<{ status: string; version: number }>(
    "SELECT status, version FROM signing_keys WHERE kid = $1",
    [kid],
  );
  return rows;
}

const settled = (eventId: string, kind: MessageOutcome["kind"]) => () =>
  outcomes.some((o) => o.eventId === eventId && o.kind === kind);

describe("signing-key replica", () => {
  it("signing-key.published puts the key in the table and the key set; delivered twice, it is one row", async () => {
    await waitUntil(() => replica.status().ready && sibling.status().ready);
    const key = await generateSigningKey();
    const event = published(key);
    await produce(event);
    await waitUntil(() => replica.keyStore.has(key.kid));
    await produce(event);
    await waitUntil(settled(event.eventId, "duplicate"));
    expect(await rowOf(key.kid)).toEqual([{ status: "PUBLISHED", version: 1 }]);
  });

  it("signing-key.retired removes the key from both replicas of the service, whichever consumed it", async () => {
    const key = await generateSigningKey();
    await produce(published(key));
    await waitUntil(() => replica.keyStore.has(key.kid) && sibling.keyStore.has(key.kid));
    const event = retired(key);
    const sentAt = performance.now();
    await produce(event);
    const elapsed = await Promise.all(
      [replica, sibling].map(async (r) => {
        await waitUntil(() => r.keyStore.isRetired(key.kid));
        return (performance.now() - sentAt).toFixed(0);
      }),
    );
    console.log(
      `signing keys: retirement produced → refused by both replicas after ${elapsed.join(" / ")} ms`,
    );
    expect([replica.keyStore.has(key.kid), sibling.keyStore.has(key.kid)]).toEqual([false, false]);
    expect(await rowOf(key.kid)).toEqual([{ status: "RETIRED", version: 2 }]);
  });

  it("out of order: a published delivered after the retired never revives the key", async () => {
    const key = await generateSigningKey();
    const late = published(key);
    await produce(retired(key), late);
    await waitUntil(settled(late.eventId, "applied"));
    expect(await rowOf(key.kid)).toEqual([{ status: "RETIRED", version: 2 }]);
    await replica.refresh();
    expect([replica.keyStore.has(key.kid), replica.keyStore.isRetired(key.kid)]).toEqual([false, true]);
  });

  it("a restarted service verifies from its table before it has consumed anything", async () => {
    const key = await generateSigningKey();
    await produce(published(key));
    await waitUntil(() => replica.keyStore.has(key.kid));
    // A fresh process: an empty key set until start() reads the table (Kafka need not deliver again).
    const restarted = createSigningKeyReplica<PgTransaction>({
      kafka,
      db: pgExecutor(bed.pool),
      transaction: pgTransactions(bed.pool),
      registry,
      service: `restarted-${id}`,
    });
    expect(restarted.keyStore.size()).toBe(0);
    await restarted.refresh();
    expect(restarted.keyStore.has(key.kid)).toBe(true);
  });
});
