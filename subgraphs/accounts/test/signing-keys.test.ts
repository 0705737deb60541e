// The key set accounts publishes at each start, through a rotation: first start, restart unchanged,
// new key with the old one kept as previous, an old-configuration replica restarting mid-rollout,
// retirement, and a retired key configured again.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { generateSigningKey, type SigningKey } from "@boxoffice/auth-verify";
import { boxofficeRegistry, createPublisher } from "@boxoffice/events";
import { createLogger } from "@boxoffice/service-kit";
import { createMigratedDatabase, type TestDatabase } from "@boxoffice/service-kit/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPrisma, type PrismaClient } from "../src/db.ts";
import { publishSigningKeys, RetiredSigningKeyError } from "../src/signing-keys.ts";

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
let db: TestDatabase;
let prisma: PrismaClient;
let k1: SigningKey;
let k2: SigningKey;
const publisher = createPublisher({ registry: boxofficeRegistry, producer: "accounts" });
const logger = createLogger("accounts", "silent");

beforeAll(async () => {
  db = await createMigratedDatabase("accounts_keys", dir);
  prisma = createPrisma(db.url);
  [k1, k2] = await Promise.all([generateSigningKey(), generateSigningKey()]);
});
afterAll(async () => {
  await prisma?.$disconnect();
  await db?.drop();
});

/** A start of accounts with this configuration: current key first, then the previous ones. */
const start = (current: SigningKey, ...previous: SigningKey[]) =>
  publishSigningKeys(
    prisma,
    publisher,
    { keys: [current, ...previous].map((key) => ({ ...key.publicJwk })) },
    logger,
  );

async function outbox() {
  const rows = await prisma.eventOutbox.findMany({ orderBy: { id: "asc" } });
  return rows.map((row) => ({
    type: row.eventType,
    kid: row.aggregateId,
    version: Number(row.aggregateVersion),
    payload: row.payload as { data: { publicJwk: Record<string, unknown>; status: string } },
  }));
}

describe("publishSigningKeys", () => {
  it("a rotation publishes each change once, through the outbox", async () => {
    expect(await start(k1)).toEqual({ published: [k1.kid], retired: [], keptNewer: [] });
    expect(await start(k1)).toEqual({ published: [], retired: [], keptNewer: [] });
    // Rotate: new current key, the old one kept as previous so its tokens still verify.
    expect(await start(k2, k1)).toEqual({ published: [k2.kid], retired: [], keptNewer: [] });
    // A replica still on the old configuration restarts mid-rollout: the newer key is left alone.
    expect(await start(k1)).toEqual({ published: [], retired: [], keptNewer: [k2.kid] });
    // Retire: the old key leaves the configuration.
    expect(await start(k2)).toEqual({ published: [], retired: [k1.kid], keptNewer: [] });

    const events = await outbox();
    expect(events.map(({ type, kid, version }) => ({ type, kid, version }))).toEqual([
      { type: "signing-key.published", kid: k1.kid, version: 1 },
      { type: "signing-key.published", kid: k2.kid, version: 1 },
      { type: "signing-key.retired", kid: k1.kid, version: 2 },
    ]);
    // Public members only, as in the JWKS.
    expect(events[0]?.payload.data.publicJwk).toEqual({ ...k1.publicJwk });
    expect(events.every((e) => !("d" in e.payload.data.publicJwk))).toBe(true);
  });

  it("refuses to start with a key that was retired (it may have leaked)", async () => {
    await expect(start(k2, k1)).rejects.toThrow(RetiredSigningKeyError);
    await expect(start(k1)).rejects.toThrow(/retired/);
    // Nothing was written by the refused starts.
    expect((await outbox()).length).toBe(3);
  });
});
