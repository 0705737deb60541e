/**
 * Test support for services that consume Boxoffice events (`@boxoffice/events/testing`): topics of
 * their own per test file, derived from the contracts, and "produce these events as their publisher
 * would, then wait until the consumer has settled every one" — written once here instead of in every
 * subgraph's test harness.
 */
import { randomUUID } from "node:crypto";
import type { Kafka } from "kafkajs";
import { boxofficeRegistry, type BoxofficeEventDefinition } from "./contracts.ts";
import { envelopeHeaders, type EventEnvelope } from "./envelope.ts";
import { ACKS_ALL, createEventProducer } from "./kafka.ts";
import { createPublisher } from "./outbox.ts";
import type { EventRegistry } from "./registry.ts";

type Aggregate = BoxofficeEventDefinition["aggregateType"];

/**
 * The Boxoffice registry with every aggregate's topic renamed `<prefix>.<production topic>`, so a
 * test file reads and writes only its own topics; the aggregates in `keep` stay on their production
 * topic (e.g. `user` and `session`, published by the one real accounts process of a test run).
 * Aggregates and topics come from the contracts, so a new aggregate needs no test change.
 */
export function testRegistry(
  prefix: string,
  keep: readonly Aggregate[] = [],
): EventRegistry<BoxofficeEventDefinition> {
  const aggregates = [...new Set(boxofficeRegistry.definitions.map((d) => d.aggregateType))];
  const topics = Object.fromEntries(
    aggregates.map((aggregate) => {
      const topic = boxofficeRegistry.topicFor(aggregate);
      return [aggregate, keep.includes(aggregate) ? topic : `${prefix}.${topic}`];
    }),
  ) as Record<Aggregate, string>;
  return boxofficeRegistry.withTopics(topics);
}

/** The topics of `registry` that start with `prefix.`, with their dead-letter topics: what a test deletes. */
export function ownTopics(registry: EventRegistry<BoxofficeEventDefinition>, prefix: string): string[] {
  return registry
    .topics()
    .filter((topic) => topic.startsWith(`${prefix}.`))
    .flatMap((topic) => [topic, `${topic}.dlq`]);
}

/** `topic/partition` → the offset just after the last message produced there. */
export type ProducedPositions = Map<string, bigint>;

/**
 * Produces `events` in this order, each to its aggregate's topic in `registry`, keyed by aggregate id
 * with the envelope headers — as the relay does — one send per event (so a duplicate is a second
 * message, not folded into one batch entry), `acks: all`.
 *
 * @returns per `topic/partition`, the offset after the last message produced there.
 * @throws Error when Kafka answers without an offset (kafkajs errors pass through).
 */
export async function produceEvents(
  kafka: Kafka,
  registry: EventRegistry<BoxofficeEventDefinition>,
  events: readonly EventEnvelope[],
): Promise<ProducedPositions> {
  const producer = createEventProducer(kafka);
  await producer.connect();
  const produced: ProducedPositions = new Map();
  try {
    for (const event of events) {
      const topic = registry.topicFor(event.aggregateType);
      const [meta] = await producer.send({
        topic,
        acks: ACKS_ALL,
        messages: [{ key: event.aggregateId, value: JSON.stringify(event), headers: envelopeHeaders(event) }],
      });
      if (!meta?.baseOffset) throw new Error("no offset from Kafka");
      const position = `${topic}/${meta.partition}`;
      const after = BigInt(meta.baseOffset) + 1n;
      if ((produced.get(position) ?? 0n) < after) produced.set(position, after);
    }
  } finally {
    await producer.disconnect();
  }
  return produced;
}

/** What a consumer reports: `topic/partition` → the next offset it will read (`ConsumerStatus`). */
export interface ConsumerPositions {
  status(): { positions: Record<string, string | undefined> };
}

/** Has `consumer` settled (applied, skipped as duplicate, or dead-lettered) everything in `produced`? */
export function hasSettled(consumer: ConsumerPositions, produced: ProducedPositions): boolean {
  const { positions } = consumer.status();
  return [...produced].every(([position, after]) => BigInt(positions[position] ?? "0") >= after);
}

/**
 * Produces `events` (see {@link produceEvents}), then polls every 10 ms until `consumer` has settled
 * every one, so a test can assert the final state — "nothing changed" included. Only meaningful when
 * `consumer` is the only member of its consumer group (with replicas, wait on the data instead).
 *
 * @throws Error "<what> not settled within <deadlineMs> ms" at the deadline (default 30 000 ms).
 */
export async function deliverEvents(
  kafka: Kafka,
  registry: EventRegistry<BoxofficeEventDefinition>,
  consumer: ConsumerPositions,
  events: readonly EventEnvelope[],
  options: { deadlineMs?: number; what?: string } = {},
): Promise<void> {
  const produced = await produceEvents(kafka, registry, events);
  const deadlineMs = options.deadlineMs ?? 30_000;
  const start = performance.now();
  while (!hasSettled(consumer, produced)) {
    if (performance.now() - start > deadlineMs) {
      throw new Error(`${options.what ?? "events"} not settled within ${deadlineMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

// ---------------------------------------------------------------------------------------------
// Event builders: envelopes as the owning subgraph publishes them, validated by the contracts
// (`createPublisher().createEnvelope`), for tests of the subgraphs that consume them. Each takes
// only what a test means to choose; the rest gets a plausible default.
// ---------------------------------------------------------------------------------------------

const publisherOf = (producer: string) => createPublisher({ registry: boxofficeRegistry, producer });

/** A ticket's state as the tickets subgraph publishes it. Defaults: AVAILABLE, 8 500 EUR, a title. */
export interface TicketSpec {
  ticketId: string;
  sellerId: string;
  /** The aggregate version, ≥ 1; also `data.version`. */
  version: number;
  status?: "AVAILABLE" | "RESERVED" | "SOLD";
  title?: string;
  priceMinor?: number;
  currency?: string;
  occurredAt?: Date;
}

/**
 * `ticket.created` at version 1, `ticket.updated` at later versions, producer `tickets-test`.
 *
 * @throws InvalidEventError when the spec breaks the contract (e.g. version < 1, a bad currency).
 */
export function ticketEvent(ticket: TicketSpec): EventEnvelope {
  const common = {
    schemaVersion: 1,
    aggregateId: ticket.ticketId,
    aggregateVersion: ticket.version,
    data: {
      ticketId: ticket.ticketId,
      title: ticket.title ?? "Radiohead, 12 June, Standing",
      priceMinor: ticket.priceMinor ?? 8_500,
      currency: ticket.currency ?? "EUR",
      sellerId: ticket.sellerId,
      status: ticket.status ?? "AVAILABLE",
      version: ticket.version,
    },
    ...(ticket.occurredAt ? { occurredAt: ticket.occurredAt } : {}),
  } as const;
  const publisher = publisherOf("tickets-test");
  return ticket.version === 1
    ? publisher.createEnvelope({ type: "ticket.created", ...common })
    : publisher.createEnvelope({ type: "ticket.updated", ...common });
}

/**
 * An order's state as the orders subgraph publishes it; the event type follows `status`.
 * Defaults: a random ticket and buyer, 8 500 EUR, expiring 10 minutes from now.
 */
export interface OrderSpec {
  orderId: string;
  /** The aggregate version, ≥ 1; also `data.version`. */
  version: number;
  status: "PENDING" | "CANCELLED" | "COMPLETED";
  ticketId?: string;
  buyerId?: string;
  amountMinor?: number;
  currency?: string;
  /** ISO 8601 date-time. */
  expiresAt?: string;
  occurredAt?: Date;
}

/**
 * `order.created` (PENDING), `order.cancelled` (CANCELLED) or `order.completed` (COMPLETED),
 * producer `orders-test`.
 *
 * @throws InvalidEventError when the spec breaks the contract.
 */
export function orderEvent(order: OrderSpec): EventEnvelope {
  const data = {
    orderId: order.orderId,
    ticketId: order.ticketId ?? randomUUID(),
    buyerId: order.buyerId ?? randomUUID(),
    amountMinor: order.amountMinor ?? 8_500,
    currency: order.currency ?? "EUR",
    expiresAt: order.expiresAt ?? new Date(Date.now() + 600_000).toISOString(),
    version: order.version,
  };
  const common = {
    schemaVersion: 1,
    aggregateId: order.orderId,
    aggregateVersion: order.version,
    ...(order.occurredAt ? { occurredAt: order.occurredAt } : {}),
  } as const;
  const publisher = publisherOf("orders-test");
  switch (order.status) {
    case "PENDING":
      return publisher.createEnvelope({
        type: "order.created",
        ...common,
        data: { ...data, status: "PENDING" },
      });
    case "CANCELLED":
      return publisher.createEnvelope({
        type: "order.cancelled",
        ...common,
        data: { ...data, status: "CANCELLED" },
      });
    case "COMPLETED":
      return publisher.createEnvelope({
        type: "order.completed",
        ...common,
        data: { ...data, status: "COMPLETED" },
      });
  }
}

/** A payment outcome as the payments subgraph publishes it. Defaults: a random id, 8 500 EUR. */
export interface PaymentSpec {
  orderId: string;
  paymentId?: string;
  /**
   * The aggregate version. Payment events carry no state version (one event per outcome), so the
   * default is by type: failed 1, succeeded 2, refunded 3.
   */
  version?: number;
  amountMinor?: number;
  currency?: string;
  occurredAt?: Date;
}

/**
 * `payment.succeeded`, `payment.failed` (reason `card_declined`) or `payment.refunded`, producer
 * `payments-test`.
 *
 * @throws InvalidEventError when the spec breaks the contract.
 */
export function paymentEvent(
  type: "payment.succeeded" | "payment.failed" | "payment.refunded",
  payment: PaymentSpec,
): EventEnvelope {
  const paymentId = payment.paymentId ?? randomUUID();
  const common = {
    schemaVersion: 1,
    aggregateId: paymentId,
    aggregateVersion:
      payment.version ?? { "payment.failed": 1, "payment.succeeded": 2, "payment.refunded": 3 }[type],
    data: {
      paymentId,
      orderId: payment.orderId,
      amountMinor: payment.amountMinor ?? 8_500,
      currency: payment.currency ?? "EUR",
      ...(type === "payment.failed" ? { reason: "card_declined" } : {}),
    },
    ...(payment.occurredAt ? { occurredAt: payment.occurredAt } : {}),
  } as const;
  const publisher = publisherOf("payments-test");
  if (type === "payment.succeeded") return publisher.createEnvelope({ type, ...common });
  if (type === "payment.refunded") return publisher.createEnvelope({ type, ...common });
  return publisher.createEnvelope({ type, ...common });
}

/** `user.registered` for `userId` (email `<userId>@example.test`), producer `accounts-test`. */
export function userEvent(userId: string, occurredAt?: Date): EventEnvelope {
  return publisherOf("accounts-test").createEnvelope({
    type: "user.registered",
    schemaVersion: 1,
    aggregateId: userId,
    aggregateVersion: 1,
    data: { userId, email: `${userId}@example.test` },
    ...(occurredAt ? { occurredAt } : {}),
  });
}
