import { createLogger } from "@boxoffice/service-kit";
import { createEmptyDatabase, type TestDatabase } from "@boxoffice/service-kit/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { composeSdl, startGateway, type RunningGateway } from "../src/index.ts";
import { ITEMS_SDL, startFixture, USERS_SDL, type Fixture } from "./fixture-subgraphs.ts";

// The operation budget over PostgreSQL (GATEWAY_RATE_LIMIT_DATABASE_URL), as every deployment with more
// than one gateway instance runs it. A new, empty database per run: the instances create the table.
const logger = createLogger("gateway-budget-test", "silent");
let fixture: Fixture;
let db: TestDatabase;
let gateways: RunningGateway[] = [];

beforeAll(async () => {
  fixture = await startFixture();
  db = await createEmptyDatabase("gateway_budget");
});
afterAll(async () => {
  await Promise.allSettled(gateways.map((g) => g.stop()));
  await fixture?.stop().catch(() => undefined);
  await db?.drop();
});

describe("operation budget shared by gateway instances", () => {
  it("six instances started at once on a new database all start, and one client's budget is spent across them", async () => {
    const supergraphSdl = composeSdl([
      { name: "users", url: fixture.users.url, sdl: USERS_SDL },
      { name: "items", url: fixture.items.url, sdl: ITEMS_SDL },
    ]);
    const started = await Promise.allSettled(
      Array.from({ length: 6 }, () =>
        startGateway({
          supergraphSdl,
          port: 0,
          corsOrigins: [],
          production: true,
          logger,
          budget: { points: 5, windowSeconds: 60, databaseUrl: db.url },
        }),
      ),
    );
    gateways = started.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
    expect(started.flatMap((s) => (s.status === "rejected" ? [String(s.reason)] : []))).toEqual([]);

    // `{ echoHeaders }` costs 1: five requests, one per instance, spend the budget of 5; the sixth
    // instance then refuses the same client (all come from 127.0.0.1).
    const statuses: number[] = [];
    for (const gateway of gateways) {
      const res = await fetch(gateway.url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: "{ echoHeaders }" }),
      });
      statuses.push(res.status);
      if (res.status === 429) {
        const body = (await res.json()) as { errors?: Array<{ extensions?: Record<string, unknown> }> };
        expect(body.errors?.[0]?.extensions).toMatchObject({ code: "RATE_LIMITED" });
      } else {
        await res.body?.cancel();
      }
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
  });

  it("when PostgreSQL drops the store's connections (a restart, a failover), the instances keep serving and the spent budget holds", async () => {
    // Their pools hold idle connections from the requests above; an unhandled pool 'error' here
    // would be an uncaught exception (a crashed gateway in production).
    const killer = new pg.Client({ connectionString: db.url });
    await killer.connect();
    const { rows } = await killer
      .query<{ n: number }>(
        `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
          WHERE datname = current_database() AND pid <> pg_backend_pid()`,
      )
      .finally(() => killer.end());
    expect(rows[0]!.n).toBeGreaterThan(0);
    const res = await fetch(gateways[0]!.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: "{ echoHeaders }" }),
    });
    expect(res.status).toBe(429);
  });
});
