/**
 * The Boxoffice event contracts: every event type the subgraphs share, with its topic.
 *
 * Topics (one per aggregate type, message key = aggregate id):
 * - `boxoffice.accounts.v1` carries two aggregate types of the accounts service: `user`
 *   (`user.registered`, key = userId) and `session` (`session.revoked`, key = sessionId). They
 *   share a topic because they come from one service and one consumer wants both; ordering is
 *   guaranteed per aggregate (per user, per session), which is all a consumer needs: a session's
 *   revocation does not depend on the order of other users' events.
 * - `boxoffice.tickets.v1` (`ticket`), `boxoffice.orders.v1` (`order`), `boxoffice.payments.v1`
 *   (`payment`).
 * - `boxoffice.signing-keys.v1` (`signing-key`, key = the key's `kid`): the accounts subgraph's
 *   public session-signing keys, so every verifying subgraph keeps them in its own table and verifies
 *   sessions while accounts is down. Retained forever like every topic (`retention.ms=-1`), so a new
 *   consumer group reads every key ever published; a handful of events per rotation.
 *
 * Data rules: money is an integer amount of minor units (`priceMinor`, `amountMinor`, e.g. cents)
 * plus an ISO-4217 alphabetic code; times are ISO-8601 with offset; `version` inside `data` (ticket
 * and order) equals the envelope's `aggregateVersion` (the publisher checks it). Events carry the
 * aggregate's full replicated state, so a replica needs only the newest event, never a sequence —
 * which is what makes "apply only if newer" correct.
 *
 * Changing a contract: adding an optional field is compatible within a version (schemas strip
 * unknown keys); anything else is a new `version` registered next to the old one, consumers first.
 */
import { z } from "zod";
import { defineEvent, EventRegistry } from "./registry.ts";

const id = z.string().min(1).max(200);
/** ISO 4217 alphabetic code, e.g. "EUR". */
const currency = z.string().regex(/^[A-Z]{3}$/, "expected an ISO 4217 code such as EUR");
const minorUnits = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const version = z.number().int().positive();
const isoDateTime = z.iso.datetime({ offset: true });

/** Ticket lifecycle: listed → reserved by an order → sold (or back to available on cancel). */
export const ticketStatus = z.enum(["AVAILABLE", "RESERVED", "SOLD"]);

const ticketState = z.object({
  ticketId: id,
  title: z.string().min(1).max(200),
  priceMinor: minorUnits,
  currency,
  sellerId: id,
  status: ticketStatus,
  version,
});

const orderState = <S extends string>(status: S) =>
  z.object({
    orderId: id,
    ticketId: id,
    buyerId: id,
    status: z.literal(status),
    amountMinor: minorUnits,
    currency,
    /** When the reservation lapses unless paid. */
    expiresAt: isoDateTime,
    version,
  });

const payment = z.object({
  paymentId: id,
  orderId: id,
  amountMinor: minorUnits,
  currency,
  /** Why a payment failed (provider's decline reason); absent on success. */
  reason: z.string().max(500).optional(),
});

export const userRegisteredV1 = defineEvent({
  type: "user.registered",
  version: 1,
  aggregateType: "user",
  description: "A user account was created. data: { userId, email }.",
  schema: z.object({ userId: id, email: z.email() }),
});

export const sessionRevokedV1 = defineEvent({
  type: "session.revoked",
  version: 1,
  aggregateType: "session",
  description: "A session was revoked (sign-out or security action); tokens of it must be rejected.",
  schema: z.object({ sessionId: id, userId: id, revokedAt: isoDateTime }),
});

export const ticketCreatedV1 = defineEvent({
  type: "ticket.created",
  version: 1,
  aggregateType: "ticket",
  description: "A ticket was listed for sale. data: the ticket's full state, version 1.",
  schema: ticketState,
});

export const ticketUpdatedV1 = defineEvent({
  type: "ticket.updated",
  version: 1,
  aggregateType: "ticket",
  description: "A ticket's state changed (title, price, status…). data: the full new state.",
  schema: ticketState,
});

export const orderCreatedV1 = defineEvent({
  type: "order.created",
  version: 1,
  aggregateType: "order",
  description: "A buyer reserved a ticket; the order awaits payment until expiresAt. status PENDING.",
  schema: orderState("PENDING"),
});

export const orderCancelledV1 = defineEvent({
  type: "order.cancelled",
  version: 1,
  aggregateType: "order",
  description: "An order was cancelled (expired, payment failed, or by the buyer). status CANCELLED.",
  schema: orderState("CANCELLED"),
});

export const orderCompletedV1 = defineEvent({
  type: "order.completed",
  version: 1,
  aggregateType: "order",
  description: "An order was paid; the ticket is sold to the buyer. status COMPLETED.",
  schema: orderState("COMPLETED"),
});

export const paymentSucceededV1 = defineEvent({
  type: "payment.succeeded",
  version: 1,
  aggregateType: "payment",
  description: "A payment for an order was captured.",
  schema: payment,
});

export const paymentFailedV1 = defineEvent({
  type: "payment.failed",
  version: 1,
  aggregateType: "payment",
  description: "A payment for an order was declined; `reason` says why.",
  schema: payment,
});

export const paymentRefundedV1 = defineEvent({
  type: "payment.refunded",
  version: 1,
  aggregateType: "payment",
  description:
    "A captured payment was returned to the buyer because its order could not be completed (cancelled or expired before the capture was applied).",
  schema: payment,
});

/**
 * A public signing key as published in a JWKS (RFC 7517 §4, RFC 8037 for OKP). Only public members
 * are part of the contract: zod strips unknown keys, so private material (`d`, `p`, `q`, …) can never
 * travel in an event even if a producer put it there.
 */
const publicJwk = z.object({
  kty: z.enum(["OKP", "EC", "RSA"]),
  kid: id,
  alg: z.string().min(1).max(20).optional(),
  use: z.string().min(1).max(10).optional(),
  crv: z.string().min(1).max(20).optional(),
  x: z.string().min(1).max(1000).optional(),
  y: z.string().min(1).max(1000).optional(),
  n: z.string().min(1).max(2000).optional(),
  e: z.string().min(1).max(20).optional(),
});

const signingKeyState = <S extends string>(status: S) =>
  z
    .object({
      /** The key id (RFC 7638 thumbprint); equals `publicJwk.kid` and the aggregate id. */
      kid: id,
      publicJwk,
      status: z.literal(status),
      /** When accounts first published the key. */
      publishedAt: isoDateTime,
      /** When accounts retired it; absent while published. */
      retiredAt: isoDateTime.optional(),
    })
    .refine((key) => key.publicJwk.kid === key.kid, { message: "publicJwk.kid must equal kid" });

export const signingKeyPublishedV1 = defineEvent({
  type: "signing-key.published",
  version: 1,
  aggregateType: "signing-key",
  description:
    "The accounts subgraph signs sessions with this key, or still accepts it during a rotation; verifiers add it. aggregateVersion 1. data: { kid, publicJwk, status: PUBLISHED, publishedAt }.",
  schema: signingKeyState("PUBLISHED"),
});

export const signingKeyRetiredV1 = defineEvent({
  type: "signing-key.retired",
  version: 1,
  aggregateType: "signing-key",
  description:
    "The key is retired (rotation finished, or compromised): verifiers refuse every token it signed from now on. aggregateVersion 2. data: { kid, publicJwk, status: RETIRED, publishedAt, retiredAt }.",
  schema: signingKeyState("RETIRED"),
});

/** Production topic names per aggregate type. */
export const BOXOFFICE_TOPICS = {
  user: "boxoffice.accounts.v1",
  session: "boxoffice.accounts.v1",
  ticket: "boxoffice.tickets.v1",
  order: "boxoffice.orders.v1",
  payment: "boxoffice.payments.v1",
  "signing-key": "boxoffice.signing-keys.v1",
} as const;

/** Every Boxoffice event definition. */
export const BOXOFFICE_EVENTS = [
  userRegisteredV1,
  sessionRevokedV1,
  ticketCreatedV1,
  ticketUpdatedV1,
  orderCreatedV1,
  orderCancelledV1,
  orderCompletedV1,
  paymentSucceededV1,
  paymentFailedV1,
  paymentRefundedV1,
  signingKeyPublishedV1,
  signingKeyRetiredV1,
] as const;

export type BoxofficeEventDefinition = (typeof BOXOFFICE_EVENTS)[number];
export type BoxofficeAggregateType = keyof typeof BOXOFFICE_TOPICS;

/** The registry every subgraph shares. */
export const boxofficeRegistry = new EventRegistry<BoxofficeEventDefinition>(
  BOXOFFICE_EVENTS,
  BOXOFFICE_TOPICS,
);
