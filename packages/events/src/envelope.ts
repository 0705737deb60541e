/**
 * The event envelope: the metadata every Boxoffice domain event carries on Kafka, whatever its type.
 *
 * On the wire a message is: key = `aggregateId` (so Kafka's default partitioner keeps one aggregate
 * on one partition, hence in order), value = the envelope as UTF-8 JSON, headers = a copy of
 * `event-id`, `event-type`, `schema-version` and `traceparent` so tools can filter without parsing
 * the value.
 */
import { z } from "zod";

/** W3C Trace Context `traceparent` (https://www.w3.org/TR/trace-context/#traceparent-header). */
const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** `entity.past-tense`, e.g. `ticket.updated` (CONVENTIONS.md "Events"). */
export const EVENT_TYPE_PATTERN = /^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)+$/;

/** Lower-case aggregate type name, e.g. `ticket`. */
export const AGGREGATE_TYPE_PATTERN = /^[a-z][a-z0-9-]*$/;

/**
 * The envelope with `data` left unparsed: the first validation step of a consumer. `data` is
 * validated afterwards against the registry's schema for (`type`, `schemaVersion`).
 */
export const envelopeSchema = z.object({
  /** UUIDv7 (RFC 9562 §5.7): unique, and roughly time-ordered, which keeps inbox indexes compact. */
  eventId: z.uuid({ version: "v7" }),
  type: z.string().regex(EVENT_TYPE_PATTERN),
  schemaVersion: z.number().int().positive(),
  aggregateType: z.string().regex(AGGREGATE_TYPE_PATTERN),
  aggregateId: z.string().min(1).max(200),
  /** The aggregate's version after the change; strictly increasing per aggregate, starting at 1. */
  aggregateVersion: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  /** ISO-8601 with offset, when the state change happened (not when it was published). */
  occurredAt: z.iso.datetime({ offset: true }),
  /** The publishing service, e.g. `tickets`. */
  producer: z.string().min(1).max(100),
  traceparent: z.string().regex(TRACEPARENT).optional(),
  data: z.unknown(),
});

/** A domain event as carried on Kafka. `TData` is the type-and-version specific payload. */
export interface EventEnvelope<
  TType extends string = string,
  TVersion extends number = number,
  TAggregate extends string = string,
  TData = unknown,
> {
  eventId: string;
  type: TType;
  schemaVersion: TVersion;
  aggregateType: TAggregate;
  aggregateId: string;
  aggregateVersion: number;
  occurredAt: string;
  producer: string;
  traceparent?: string;
  data: TData;
}

/** Kafka header names this package writes. */
export const HEADERS = {
  eventId: "event-id",
  eventType: "event-type",
  schemaVersion: "schema-version",
  contentType: "content-type",
  traceparent: "traceparent",
  /** Set by replay tooling: only this consumer group applies the message, the others skip it. */
  replayFor: "boxoffice-replay-for",
  replayedFrom: "boxoffice-replayed-from",
  dlqErrorMessage: "dlq-error-message",
  dlqErrorName: "dlq-error-name",
  dlqOriginalTopic: "dlq-original-topic",
  dlqOriginalPartition: "dlq-original-partition",
  dlqOriginalOffset: "dlq-original-offset",
  dlqAttempts: "dlq-attempts",
  dlqFailedAt: "dlq-failed-at",
  dlqConsumerGroup: "dlq-consumer-group",
  dlqReason: "dlq-reason",
} as const;

/** The Kafka headers (all strings) that accompany an envelope. */
export function envelopeHeaders(event: EventEnvelope): Record<string, string> {
  const headers: Record<string, string> = {
    [HEADERS.eventId]: event.eventId,
    [HEADERS.eventType]: event.type,
    [HEADERS.schemaVersion]: String(event.schemaVersion),
    [HEADERS.contentType]: "application/json",
  };
  if (event.traceparent) headers[HEADERS.traceparent] = event.traceparent;
  return headers;
}
