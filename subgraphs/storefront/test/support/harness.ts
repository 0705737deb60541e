/**
 * Test harness: a storefront subgraph on its own migrated database, with its own account, ticket,
 * order and payment topics and consumer groups (test files run in parallel and in any order),
 * authenticating against the real accounts process from accounts.global-setup.ts. Events are produced
 * to Kafka as the owning subgraphs would (envelopes built and validated with the shared registry), so
 * the read-model consumer runs exactly as in production.
 */
import path from "node:path";
import type { EventEnvelope } from "@boxoffice/events";
import * as kit from "@boxoffice/service-kit/testing-accounts";
import { startStorefront, type StorefrontApp } from "../../src/app.ts";
import { storefrontEnv, type StorefrontEnv } from "../../src/env.ts";

// The shared subgraph test kit (users on the real accounts process, gql, waitUntil…), then this subgraph's own.
export * from "@boxoffice/service-kit/testing-accounts";
export {
  orderEvent,
  paymentEvent,
  ticketEvent,
  userEvent,
  type OrderSpec,
  type TicketSpec,
} from "@boxoffice/events/testing";

const STOREFRONT_DIR = path.resolve(import.meta.dirname, "../..");

export interface Harness extends kit.SubgraphHarness<StorefrontApp> {
  env: StorefrontEnv;
  /** Consumer-group namespace of this harness (the live group is `<namespace>.read-model`). */
  namespace: string;
  /** Stops the app (HTTP and consumers); `stop()` still cleans up. */
  stopApp(): Promise<void>;
  /** Starts the app again on the same database and topics (e.g. under a rebuild's group id). */
  restart(readModelGroupId?: string): Promise<StorefrontApp>;
  /**
   * Produces `events` in this order, each to its aggregate's topic keyed by aggregate id (as the
   * relay does), one send per event (a duplicate is a second message), then waits until the current
   * app's read-model consumer has settled every one (applied, duplicate or dead-lettered).
   */
  deliver(events: EventEnvelope[]): Promise<void>;
}

/** Starts a storefront subgraph for one test file. */
export async function startHarness(): Promise<Harness> {
  // Users on a private topic (the rebuild test replays it whole); sessions on the real one, where
  // the real accounts process publishes `session.revoked`.
  const bed = await kit.subgraphTestBed("storefront", STOREFRONT_DIR, ["session", "signing-key"]);
  const env = storefrontEnv(bed.env);
  const start = async (readModelGroupId?: string) =>
    bed.track(
      await startStorefront(env, kit.testLogger("storefront"), {
        registry: bed.registry,
        consumerGroupNamespace: bed.namespace,
        ...(readModelGroupId ? { readModelGroupId } : {}),
      }),
    );
  const harness: Harness = {
    app: await start(),
    url: "",
    db: bed.db,
    env,
    registry: bed.registry,
    namespace: bed.namespace,
    sql: bed.sql,
    async stopApp() {
      await harness.app.stop();
    },
    deliver: (events) => bed.deliver(harness.app.readModel, events, "read-model events"),
    async restart(readModelGroupId?: string) {
      harness.app = await start(readModelGroupId);
      harness.url = harness.app.service.url;
      return harness.app;
    },
    stop: bed.stop,
  };
  harness.url = harness.app.service.url;
  return harness;
}
