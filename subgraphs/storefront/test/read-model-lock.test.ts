/**
 * The read-model lock held by a running storefront (src/events/read-model-lock.ts): if its connection
 * is lost — a database restart, a failover, an idle timeout — a rebuild could start, so the storefront
 * stops serving at once instead of serving tables a rebuild is emptying.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { lockForRebuild } from "../src/events/read-model-lock.ts";
import { startHarness, waitUntil, type Harness } from "./support/harness.ts";

let harness: Harness;

beforeAll(async () => {
  harness = await startHarness();
});
afterAll(async () => {
  await harness?.stop();
});

it("a storefront whose lock connection is killed stops serving, and only then can a rebuild take the lock", async () => {
  const healthz = new URL("/healthz", harness.url).toString();
  expect((await fetch(healthz)).ok).toBe(true);
  await expect(lockForRebuild(harness.db.url, 0)).rejects.toThrow(/storefront is running/);

  const killed = await harness.sql<{ killed: boolean }>(
    `SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity
      WHERE datname = current_database() AND application_name = 'storefront-read-model-shared'`,
  );
  expect(killed).toEqual([{ killed: true }]);

  await waitUntil(
    async () => {
      try {
        await fetch(healthz);
        return false;
      } catch {
        return true; // the HTTP server is closed
      }
    },
    20_000,
    "storefront stopped",
  );
  const lock = await lockForRebuild(harness.db.url, 5_000);
  await lock.release();
});
