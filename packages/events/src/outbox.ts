/**
 * The producer side: `publish(tx, draft)` writes the event to the service's outbox table inside the
 * caller's transaction (the transactional outbox pattern, https://microservices.io/patterns/data/transactional-outbox.html).
 * The event exists if and only if the state change commits: there is no second write to Kafka that
 * could fail or be lost after the commit. The relay (relay.ts) moves committed rows to Kafka.
 */
import { currentTraceparent } from "@boxoffice/telemetry";
import { v7 as uuidv7 } from "uuid";
import { envelopeHeaders, type EventEnvelope } from "./envelope.ts";
import { InvalidEventError } from "./errors.ts";
import type { AnyEventDefinition, EventDraft, EventOf, EventRegistry } from "./registry.ts";
import { tableName, type SqlExecutor } from "./sql.ts";

export interface PublisherOptions<D extends AnyEventDefinition> {
  registry: EventRegistry<D>;
  /** This service's name, written to every envelope's `producer`, e.g. `tickets`. */
  producer: string;
  /**
   * Schema that holds `event_outbox`. Omit when the transaction's connection already has
   * `search_path` set to the service schema (the recommended Prisma adapter setup).
   */
  schema?: string;
}

export interface Publisher<D extends AnyEventDefinition> {
  /**
   * Validates the draft against the registry and inserts it into the outbox through `tx`.
   * Call it inside the transaction that changes the aggregate:
   * `prisma.$transaction(async (tx) => { await tx.ticket.update(…); await publisher.publish(tx, {…}) })`.
   *
   * @returns the complete envelope as it will appear on Kafka.
   * @throws UnknownEventError for an unregistered (type, schemaVersion).
   * @throws InvalidEventError when data fails its schema, or `data.version` differs from
   *   `aggregateVersion`.
   * @throws the driver's unique-violation error when (aggregate, aggregateVersion) or eventId was
   *   already published — one event per aggregate version; the transaction should roll back.
   */
  publish<E extends EventDraft<D>>(tx: SqlExecutor, draft: E): Promise<PublishedEvent<D, E>>;
  /** Builds and validates the envelope without writing it (for tests and tools). */
  createEnvelope<E extends EventDraft<D>>(draft: E): PublishedEvent<D, E>;
}

/** The envelope type for a draft: narrowed to the draft's type and schema version. */
export type PublishedEvent<D extends AnyEventDefinition, E> = E extends {
  type: infer T;
  schemaVersion: infer V;
}
  ? EventOf<Extract<D, { type: T; version: V }>>
  : never;

/** Creates the publisher a service uses for every event it emits. */
export function createPublisher<D extends AnyEventDefinition>(options: PublisherOptions<D>): Publisher<D> {
  const { registry, producer } = options;
  const outbox = tableName("event_outbox", options.schema);
  const insert =
    `INSERT INTO ${outbox} (event_id, topic, message_key, aggregate_type, aggregate_id, aggregate_version,` +
    ` event_type, schema_version, payload, headers)` +
    ` VALUES ($1::uuid, $2, $3, $4, $5, $6::bigint, $7, $8::int, $9::jsonb, $10::jsonb)`;

  const createEnvelope = <E extends EventDraft<D>>(draft: E): PublishedEvent<D, E> => {
    const d = draft as EventDraft<AnyEventDefinition>;
    const { definition, data } = registry.parseData(d.type, d.schemaVersion, d.data);
    if (!Number.isSafeInteger(d.aggregateVersion) || d.aggregateVersion < 1) {
      throw new InvalidEventError(`aggregateVersion must be a positive integer, got ${d.aggregateVersion}`);
    }
    const dataVersion = (data as { version?: unknown }).version;
    if (typeof dataVersion === "number" && dataVersion !== d.aggregateVersion) {
      throw new InvalidEventError(
        `data.version (${dataVersion}) must equal aggregateVersion (${d.aggregateVersion})`,
      );
    }
    const occurredAt =
      d.occurredAt === undefined
        ? new Date().toISOString()
        : typeof d.occurredAt === "string"
          ? d.occurredAt
          : d.occurredAt.toISOString();
    // The trace of the request (or consumed event) that causes this event travels with it: the relay
    // sends long after this context is gone (README "Tracing").
    const traceparent = d.traceparent ?? currentTraceparent();
    const envelope: EventEnvelope = {
      eventId: d.eventId ?? uuidv7(),
      type: d.type,
      schemaVersion: d.schemaVersion,
      aggregateType: definition.aggregateType,
      aggregateId: d.aggregateId,
      aggregateVersion: d.aggregateVersion,
      occurredAt,
      producer,
      ...(traceparent ? { traceparent } : {}),
      data,
    };
    // Round-trip through the decoder: whatever a consumer would reject is rejected here, before it
    // can reach the outbox and become a poison message.
    const decoded = registry.decode(JSON.stringify(envelope));
    if (decoded.kind !== "ok") {
      throw new InvalidEventError(`event ${d.type}@${d.schemaVersion} would not decode`, [
        decoded.kind === "invalid" ? decoded.reason : decoded.kind,
      ]);
    }
    return decoded.event as PublishedEvent<D, E>;
  };

  return {
    createEnvelope,
    async publish<E extends EventDraft<D>>(tx: SqlExecutor, draft: E): Promise<PublishedEvent<D, E>> {
      const event = createEnvelope(draft);
      const envelope = event as EventEnvelope;
      await tx.$executeRawUnsafe(
        insert,
        envelope.eventId,
        registry.topicFor(envelope.aggregateType),
        envelope.aggregateId,
        envelope.aggregateType,
        envelope.aggregateId,
        envelope.aggregateVersion,
        envelope.type,
        envelope.schemaVersion,
        JSON.stringify(envelope),
        JSON.stringify(envelopeHeaders(envelope)),
      );
      return event;
    },
  };
}
