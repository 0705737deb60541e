/**
 * Test harness: a payments subgraph on its own migrated database, with its own order/payment topics
 * and consumer groups (tests run in parallel and in any order), authenticating against the real
 * accounts process from accounts.global-setup.ts. Session events stay on accounts' real topic,
 * because the real accounts process publishes there.
 *
 * The payment provider is the real built-in sandbox behind a test double of the provider's NETWORK
 * (the only thing outside Boxoffice): `harness.network` can lose the response of a charge the
 * sandbox made, or hold a call until the test releases it.
 */
import { randomUUID } from "node:crypto";
import path from "node:path";
import type { EventEnvelope } from "@boxoffice/events";
import { orderEvent, type OrderSpec } from "@boxoffice/events/testing";
import * as kit from "@boxoffice/service-kit/testing-accounts";
import { startPayments, type PaymentsApp } from "../../src/app.ts";
import { paymentsEnv } from "../../src/env.ts";
import { TransientProviderError, type PaymentProvider } from "../../src/providers/payment-provider.ts";
import { createSandboxProvider, type SandboxProvider } from "../../src/providers/sandbox.ts";

// The shared subgraph test kit (users on the real accounts process, gql, waitUntil…), then this subgraph's own.
export * from "@boxoffice/service-kit/testing-accounts";
export { orderEvent, type OrderSpec };

const PAYMENTS_DIR = path.resolve(import.meta.dirname, "../..");

/** Attempt lease of the harness's payments app, ms: short, so a lease-lapse test is quick. */
export const TEST_ATTEMPT_LEASE_MS = 2_000;
/** PENDING and untouched this long, a payment is reconciled (production: 300 s). */
export const TEST_ABANDON_AFTER_MS = 4_000;

/** Faults of the provider's network, consumed by the next provider calls. */
export interface NetworkFaults {
  /** The next N charges reach the sandbox (which decides and may capture) but their responses are lost. */
  loseResponses: number;
  /** When set, the next call waits for this promise before reaching the sandbox. */
  holdNext: Promise<void> | null;
  /** The next N refunds fail transiently before reaching the sandbox. */
  failRefunds: number;
}

export interface Harness extends kit.SubgraphHarness<PaymentsApp> {
  /** The real sandbox provider behind the network double. */
  sandbox: SandboxProvider;
  network: NetworkFaults;
  /** SQL statements the payments Prisma client ran (clear it before measuring). */
  queries: string[];
  /**
   * Produces `events` to the orders topic in this order (keyed by order id, as the relay does), then
   * waits until the payments order consumer has settled every one of them (applied, duplicate or
   * dead-lettered), so a test can assert the final state, including "nothing changed".
   */
  deliverOrderEvents(events: EventEnvelope[]): Promise<void>;
}

/** The sandbox behind a network that may lose responses or hold calls (see `NetworkFaults`). */
function networkDouble(sandbox: SandboxProvider, network: NetworkFaults): PaymentProvider {
  return {
    name: sandbox.name,
    async charge(request) {
      const hold = network.holdNext;
      network.holdNext = null;
      if (hold) await hold;
      const result = await sandbox.charge(request);
      if (network.loseResponses > 0) {
        network.loseResponses -= 1;
        throw new Error("socket hang up (the provider's response was lost)");
      }
      return result;
    },
    lookup: (key) => sandbox.lookup(key),
    async refund(request) {
      if (network.failRefunds > 0) {
        network.failRefunds -= 1;
        throw new TransientProviderError("refund timed out (network double)");
      }
      return sandbox.refund(request);
    },
  };
}

/** Starts a payments subgraph for one test file. */
export async function startHarness(): Promise<Harness> {
  const bed = await kit.subgraphTestBed("payments", PAYMENTS_DIR);
  const queries: string[] = [];
  const env = paymentsEnv({
    ...bed.env,
    // The reconciler polls once at start; tests call `app.reconciliation.runOnce()` when they need it.
    PAYMENTS_RECONCILE_POLL_MS: "600000",
  });
  const sandbox = createSandboxProvider();
  const network: NetworkFaults = { loseResponses: 0, holdNext: null, failRefunds: 0 };
  const app = bed.track(
    await startPayments(env, kit.testLogger("payments"), {
      onQuery: (sql) => queries.push(sql),
      registry: bed.registry,
      consumerGroupNamespace: bed.namespace,
      provider: networkDouble(sandbox, network),
      attemptLeaseMs: TEST_ATTEMPT_LEASE_MS,
      abandonAfterMs: TEST_ABANDON_AFTER_MS,
    }),
  );
  return {
    app,
    url: app.service.url,
    db: bed.db,
    registry: bed.registry,
    sandbox,
    network,
    queries,
    sql: bed.sql,
    deliverOrderEvents: (events) => bed.deliver(app.orders, events, "order events"),
    stop: bed.stop,
  };
}

/** An open order (order.created, version 1) of `buyer`, delivered through Kafka; returns its id. */
export async function openOrder(
  harness: Harness,
  buyer: kit.TestUser,
  spec: Partial<Omit<OrderSpec, "buyerId" | "version" | "status">> = {},
): Promise<string> {
  const orderId = spec.orderId ?? randomUUID();
  await harness.deliverOrderEvents([
    orderEvent({ ...spec, orderId, buyerId: buyer.id, version: 1, status: "PENDING" }),
  ]);
  return orderId;
}

/** Row counts of everything a refused mutation must not write. */
export async function writeCounts(harness: Harness): Promise<Record<string, unknown>> {
  const [row] = await harness.sql(
    `SELECT (SELECT count(*) FROM payments.payments) AS payments,
            (SELECT coalesce(sum(attempts), 0) FROM payments.payments) AS attempts,
            (SELECT count(*) FROM payments.event_outbox) AS events`,
  );
  return { ...row, charges: harness.sandbox.charges().length };
}

/** The outbox rows of one payment, oldest first. */
export async function paymentEvents(
  harness: Harness,
  paymentId: string,
): Promise<Array<{ event_type: string; aggregate_version: string; data: Record<string, unknown> }>> {
  return harness.sql(
    `SELECT event_type, aggregate_version, payload->'data' AS data FROM payments.event_outbox
     WHERE aggregate_id = $1 ORDER BY id`,
    [paymentId],
  );
}
