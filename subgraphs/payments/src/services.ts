/**
 * The payments subgraph's domain operations. Resolvers call these.
 *
 * How a charge is made safe against retries, concurrency and crashes (`payForOrder`):
 *
 * 1. Transaction 1 (committed before any money moves): lock the order's replica row, find the
 *    buyer's payment for this idempotency key, or check the order (exists, caller is its buyer, open,
 *    not expired, no other live payment) and insert a PENDING payment with the amount from the
 *    replica. Either way the request takes the payment's attempt lease (`attempt_started_at`).
 * 2. Outside any transaction: call the provider with the PAYMENT ID as the provider's idempotency
 *    key (providers are idempotent by key: a repeated call returns the first outcome).
 * 3. Transaction 2: record the outcome (SUCCEEDED/FAILED) and write `payment.succeeded` /
 *    `payment.failed` to the outbox, atomically. A capture for an order the replica meanwhile knows as
 *    CANCELLED is marked REFUND_PENDING in the same transaction (refunds.ts; the refund worker returns
 *    the money).
 *
 * A crash (or a lost database connection) between 2 and 3 leaves a PENDING payment whose provider
 * charge may exist. Retrying with the same idempotency key finds that PENDING payment, calls the
 * provider again with the same payment id, and gets the ORIGINAL outcome back instead of a second
 * charge; step 3 then records it once. Holding a database transaction open across the provider call
 * instead would tie up a connection for a network round trip and still not survive a crash.
 *
 * Idempotency semantics (after Stripe's, https://docs.stripe.com/api/idempotent_requests): keys are
 * scoped to the buyer; the same key with the same request (order id and token) returns the first
 * payment, whatever its status (a FAILED payment stays failed: a new attempt needs a new key); the
 * same key with a different order or token is the client's mistake → BAD_USER_INPUT (Stripe answers
 * 400 `idempotency_error`); a concurrent request with a key whose charge is in flight waits for its
 * outcome (Stripe answers 409 instead; waiting gives the client the answer it wanted).
 */
import type { Verifier } from "@boxoffice/auth-verify";
import { forbiddenError } from "@boxoffice/auth-verify";
import {
  awaitReplicated,
  DEFAULT_REPLICA_WAIT_MS,
  errorMessage,
  type BoxofficeEventDefinition,
  type Publisher,
} from "@boxoffice/events";
import {
  conflict,
  eventsLogger,
  isUuid,
  notFound,
  notYetReplicated,
  type Logger,
} from "@boxoffice/service-kit";
import DataLoader from "dataloader";
import { GraphQLError } from "graphql";
import { v7 as uuidv7 } from "uuid";
import type { PaymentsTx, PrismaClient } from "./db.ts";
import type { OrderReplica, Payment } from "./generated/prisma/client.ts";
import { parseId, parseIdempotencyKey, parsePaymentToken, tokenFingerprint } from "./payment-input.ts";
import type { ChargeResult, PaymentProvider } from "./providers/payment-provider.ts";
import { recordChargeOutcome } from "./charge-outcome.ts";

/** `payForOrder` arguments as the client sends them (validated here). */
export interface PayForOrderInput {
  orderId: string;
  paymentToken: string;
  idempotencyKey: string;
}

/** Everything a resolver of the payments subgraph needs, built once per process. */
export interface PaymentsServices {
  prisma: PrismaClient;
  verifier: Verifier;
  logger: Logger;
  provider: PaymentProvider;
  /**
   * Pays order `input.orderId` for `buyerId` (see the module comment for the protocol).
   *
   * @returns the payment: SUCCEEDED or FAILED (declined; the order stays open), or the first payment
   *   of this (buyer, idempotency key) when the request repeats one.
   * @throws GraphQLError BAD_USER_INPUT (`extensions.field`: orderId, paymentToken, idempotencyKey —
   *   the latter also for a key reused with a different order or token, `extensions.reason`
   *   IDEMPOTENCY_KEY_REUSED); NOT_FOUND (no such order in the replica,
   *   and it is not a recently created one still on its way); SERVICE_UNAVAILABLE with `retryable:
   *   true`, `reason: NOT_YET_REPLICATED` (a recently created order not replicated within the wait); FORBIDDEN (not the buyer);
   *   CONFLICT (`extensions.reason`: ORDER_CANCELLED, ORDER_COMPLETED, ORDER_EXPIRED, ALREADY_PAID,
   *   PAYMENT_IN_PROGRESS) — all before anything is written; SERVICE_UNAVAILABLE
   *   (`extensions.retryable`, `extensions.paymentId`) when the provider failed transiently: the
   *   payment stays PENDING, retry with the same key.
   */
  payForOrder(buyerId: string, input: PayForOrderInput): Promise<Payment>;
  /**
   * `buyerId`'s payment `id`, or null when there is none (someone else's payment is null too).
   * @throws GraphQLError BAD_USER_INPUT for a malformed id.
   */
  payment(buyerId: string, id: string): Promise<Payment | null>;
  /** A DataLoader per request: batches `Payment` lookups by id into one query; unknown/malformed ids → null. */
  paymentLoader(): DataLoader<string, Payment | null>;
}

export interface PaymentsServicesOptions {
  prisma: PrismaClient;
  verifier: Verifier;
  publisher: Publisher<BoxofficeEventDefinition>;
  provider: PaymentProvider;
  logger: Logger;
  /**
   * How long one request may hold a payment's attempt lease, ms (default 30 000). A request that died
   * while calling the provider blocks retries of that key for at most this long.
   */
  attemptLeaseMs?: number;
  /**
   * How long a request waits for a concurrent attempt with the same key, ms (default 5 000): shorter
   * than the gateway's 10 s subgraph timeout, so the client gets CONFLICT PAYMENT_IN_PROGRESS rather
   * than a timeout.
   */
  waitForAttemptMs?: number;
  /**
   * Payment stops this long before the order's `expiresAt`, ms (PAYMENTS_EXPIRY_MARGIN_SECONDS; default
   * 5 000): a capture then lands before the order expires rather than just after it (and is refunded).
   */
  expiryMarginMs?: number;
  /**
   * How long `payForOrder` waits for a recently created order (UUIDv7 younger than 5 minutes) to
   * reach the order replica before answering SERVICE_UNAVAILABLE `NOT_YET_REPLICATED`, ms
   * (default 2 000).
   */
  replicaWaitMs?: number;
}

/**
 * Refuses an order that `buyerId` may not pay now.
 * @throws GraphQLError FORBIDDEN (not the buyer) or CONFLICT (not PENDING, or expired — or expiring
 *   within `marginMs` — at `now`).
 */
function assertPayable(order: OrderReplica, buyerId: string, now: Date, marginMs: number): void {
  // Ownership is checked on the loaded order, not on an argument (OWASP API1:2023).
  if (order.buyerId !== buyerId) throw forbiddenError("Only the order's buyer can pay for it.");
  if (order.status === "CANCELLED") throw conflict("This order was cancelled.", "ORDER_CANCELLED");
  if (order.status === "COMPLETED") throw conflict("This order is already completed.", "ORDER_COMPLETED");
  if (order.expiresAt.getTime() - marginMs <= now.getTime()) {
    throw conflict(
      "This order has expired (or expires in a few seconds, too late to pay); its reservation lapsed.",
      "ORDER_EXPIRED",
    );
  }
}

/** What transaction 1 decided. */
type Claim =
  | { kind: "done"; payment: Payment }
  | { kind: "charge"; payment: Payment }
  | { kind: "in-flight"; paymentId: string };

/** Builds the payments services. */
export function createPaymentsServices(options: PaymentsServicesOptions): PaymentsServices {
  const { prisma, verifier, publisher, provider, logger } = options;
  const eventsLog = eventsLogger(logger);
  const leaseMs = options.attemptLeaseMs ?? 30_000;
  const leaseSeconds = leaseMs / 1000;
  const waitForAttemptMs = options.waitForAttemptMs ?? 5_000;
  const expiryMarginMs = options.expiryMarginMs ?? 5_000;
  const replicaWaitMs = options.replicaWaitMs ?? DEFAULT_REPLICA_WAIT_MS;

  /** Transaction 1: find or create the payment and take its attempt lease (see the module comment). */
  async function claim(buyerId: string, orderId: string, key: string, fingerprint: string): Promise<Claim> {
    return prisma.$transaction(async (tx: PaymentsTx): Promise<Claim> => {
      // One request at a time per order: the "no other live payment" check and the insert below
      // cannot interleave with another request's (two keys would otherwise both charge).
      const locked = await tx.$queryRaw<Array<{ order_id: string }>>`
        SELECT order_id::text FROM order_replica WHERE order_id = ${orderId}::uuid FOR UPDATE`;
      const now = new Date();
      const existing = await tx.payment.findUnique({
        where: { buyerId_idempotencyKey: { buyerId, idempotencyKey: key } },
      });
      if (existing) {
        if (existing.orderId !== orderId || existing.tokenFingerprint !== fingerprint) {
          throw new GraphQLError(
            "This idempotency key was already used for a different payment request; use a new key for a new payment.",
            {
              extensions: {
                code: "BAD_USER_INPUT",
                field: "idempotencyKey",
                reason: "IDEMPOTENCY_KEY_REUSED",
              },
            },
          );
        }
        if (existing.status !== "PENDING") return { kind: "done", payment: existing };
        // Resuming a PENDING payment: never start a provider call for an order that closed meanwhile.
        assertPayable(
          await tx.orderReplica.findUniqueOrThrow({ where: { orderId } }),
          buyerId,
          now,
          expiryMarginMs,
        );
        const taken = await tx.$executeRaw`
          UPDATE payments SET attempt_started_at = now(), attempts = attempts + 1, updated_at = now()
          WHERE id = ${existing.id}::uuid AND status = 'PENDING'
            AND (attempt_started_at IS NULL
                 OR attempt_started_at < now() - make_interval(secs => ${leaseSeconds}::float8))`;
        if (taken === 0) return { kind: "in-flight", paymentId: existing.id };
        return {
          kind: "charge",
          payment: await tx.payment.findUniqueOrThrow({ where: { id: existing.id } }),
        };
      }
      if (locked.length === 0) throw notFound("No order with this id.");
      const order = await tx.orderReplica.findUniqueOrThrow({ where: { orderId } });
      assertPayable(order, buyerId, now, expiryMarginMs);
      const live = await tx.payment.findFirst({
        where: { orderId, status: { in: ["PENDING", "SUCCEEDED"] } },
        select: { status: true },
      });
      if (live?.status === "SUCCEEDED") throw conflict("This order is already paid.", "ALREADY_PAID");
      if (live) {
        throw conflict(
          "A payment of this order is in progress under another idempotency key; retry that request.",
          "PAYMENT_IN_PROGRESS",
        );
      }
      const payment = await tx.payment.create({
        data: {
          id: uuidv7(),
          orderId,
          buyerId,
          idempotencyKey: key,
          tokenFingerprint: fingerprint,
          amountMinor: order.amountMinor,
          currency: order.currency,
          provider: provider.name,
          attempts: 1,
          attemptStartedAt: now,
        },
      });
      return { kind: "charge", payment };
    });
  }

  /** Waits until payment `id` is decided or its lease is released or lapsed; false at the deadline. */
  async function waitForAttempt(id: string): Promise<boolean> {
    const deadline = Date.now() + waitForAttemptMs;
    while (Date.now() < deadline) {
      const row = await prisma.payment.findUnique({
        where: { id },
        select: { status: true, attemptStartedAt: true },
      });
      if (!row || row.status !== "PENDING" || row.attemptStartedAt === null) return true;
      if (row.attemptStartedAt.getTime() < Date.now() - leaseMs) return true;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    return false;
  }

  /** Steps 2 and 3: the provider call, then the outcome and its event in one transaction. */
  async function charge(payment: Payment, token: string): Promise<Payment> {
    let result: ChargeResult;
    try {
      result = await provider.charge({
        idempotencyKey: payment.id,
        token,
        amountMinor: payment.amountMinor,
        currency: payment.currency,
      });
    } catch (error) {
      // Outcome unknown: keep the payment PENDING (never a new one) and free the lease for a retry.
      const message = errorMessage(error);
      await prisma.payment.updateMany({
        where: { id: payment.id, status: "PENDING" },
        data: { attemptStartedAt: null, lastError: message.slice(0, 500), updatedAt: new Date() },
      });
      logger.warn({ paymentId: payment.id, err: message }, "payment provider failed; payment stays PENDING");
      throw new GraphQLError(
        "The payment provider is temporarily unavailable. Retry with the same idempotencyKey; you will not be charged twice.",
        { extensions: { code: "SERVICE_UNAVAILABLE", retryable: true, paymentId: payment.id } },
      );
    }
    return recordChargeOutcome({ prisma, publisher, logger: eventsLog }, payment, result);
  }

  return {
    prisma,
    verifier,
    logger,
    provider,

    async payForOrder(buyerId, input) {
      const orderId = parseId(input.orderId, "orderId", "an order");
      const token = parsePaymentToken(input.paymentToken);
      const key = parseIdempotencyKey(input.idempotencyKey);
      const fingerprint = tokenFingerprint(token);
      // Read-your-writes: an order created a moment ago may not be in the replica yet (the event
      // path lags); wait for it, bounded, and say "not yet" (retryable) rather than NOT_FOUND.
      const arrival = await awaitReplicated(
        orderId,
        async () => (await prisma.orderReplica.count({ where: { orderId } })) > 0,
        { timeoutMs: replicaWaitMs },
      );
      if (arrival === "not-yet") {
        throw notYetReplicated(
          "This order was created moments ago and is not known here yet; retry shortly.",
        );
      }
      for (;;) {
        const claimed = await claim(buyerId, orderId, key, fingerprint);
        if (claimed.kind === "done") return claimed.payment;
        if (claimed.kind === "charge") return charge(claimed.payment, token);
        // Another request holds this payment's lease: wait for its outcome, then claim again (it
        // returns the outcome, or takes the lease if the other attempt failed transiently).
        if (!(await waitForAttempt(claimed.paymentId))) {
          throw conflict(
            "A request with this idempotency key is still in progress; retry it shortly.",
            "PAYMENT_IN_PROGRESS",
          );
        }
      }
    },

    async payment(buyerId, rawId) {
      const id = parseId(rawId, "id", "a payment");
      const payment = await prisma.payment.findUnique({ where: { id } });
      return payment && payment.buyerId === buyerId ? payment : null;
    },

    paymentLoader() {
      return new DataLoader<string, Payment | null>(async (ids) => {
        const valid = ids.filter(isUuid).map((id) => id.toLowerCase());
        const payments = valid.length ? await prisma.payment.findMany({ where: { id: { in: valid } } }) : [];
        const byId = new Map(payments.map((p) => [p.id, p]));
        return ids.map((id) => (isUuid(id) ? (byId.get(id.toLowerCase()) ?? null) : null));
      });
    },
  };
}
