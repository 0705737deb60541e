/**
 * The event registry: one zod schema per (event type, schema version), shared by producers (which
 * validate before writing to the outbox) and consumers (which validate before applying).
 *
 * Unknown-type and unknown-version policy (README "Registry"):
 * - A type the registry does not know: `decode` returns `unknown-type`. Consumers acknowledge and
 *   skip it by default (a topic carries every event of its aggregate type and consumers handle a
 *   subset; new types are added additively), or dead-letter it with `unknownTypes: "dead-letter"`.
 * - A known type with a version the registry does not know: `unknown-version`. This means the
 *   producer is newer than the consumer; consumers dead-letter it so it can be replayed after the
 *   consumer is upgraded, instead of guessing at its meaning or silently losing it.
 * - Malformed envelopes and data that fail their schema: `invalid`, dead-lettered.
 */
import { z } from "zod";
import {
  AGGREGATE_TYPE_PATTERN,
  EVENT_TYPE_PATTERN,
  envelopeSchema,
  type EventEnvelope,
} from "./envelope.ts";
import { EventsConfigError, InvalidEventError, UnknownEventError } from "./errors.ts";

/** One version of one event type. */
export interface EventDefinition<
  TType extends string = string,
  TVersion extends number = number,
  TAggregate extends string = string,
  TSchema extends z.ZodType = z.ZodType,
> {
  readonly type: TType;
  readonly version: TVersion;
  readonly aggregateType: TAggregate;
  /** Validates `data`. Objects strip unknown keys, so additive fields never break old consumers. */
  readonly schema: TSchema;
  /** One sentence: when the event is published and what `data` means. */
  readonly description: string;
}

export type AnyEventDefinition = EventDefinition<string, number, string, z.ZodType>;

/** The envelope type of a definition (distributes over unions). */
export type EventOf<D> =
  D extends EventDefinition<infer T, infer V, infer A, infer S> ? EventEnvelope<T, V, A, z.output<S>> : never;

/** The envelope type(s) of one event type in a registry, all its versions. */
export type EventOfType<D, K extends string> = EventOf<Extract<D, { type: K }>>;

/**
 * What a producer supplies to `publish`: everything but the fields the publisher fills in
 * (`eventId`, `producer`, `aggregateType`; `occurredAt` defaults to now).
 */
export type EventDraft<D> =
  D extends EventDefinition<infer T, infer V, string, infer S>
    ? {
        type: T;
        schemaVersion: V;
        aggregateId: string;
        /** The aggregate's version after this change (1 for the first event). One event per version. */
        aggregateVersion: number;
        data: z.input<S>;
        traceparent?: string;
        occurredAt?: Date | string;
        /** Normally generated (UUIDv7); settable for idempotent re-publication. */
        eventId?: string;
      }
    : never;

/** The result of decoding a Kafka message value. */
export type DecodeResult<D> =
  | { kind: "ok"; event: EventOf<D>; definition: D }
  | { kind: "invalid"; reason: string }
  | { kind: "unknown-type"; type: string; version: number }
  | { kind: "unknown-version"; type: string; version: number; known: number[] };

/**
 * Declares one version of an event type. Validates the names eagerly.
 *
 * @throws EventsConfigError when `type` is not `entity.past-tense` (lower case, dotted), the
 *   aggregate type is not lower case, or the version is not a positive integer.
 */
export function defineEvent<
  const TType extends string,
  const TVersion extends number,
  const TAggregate extends string,
  TSchema extends z.ZodType,
>(
  definition: EventDefinition<TType, TVersion, TAggregate, TSchema>,
): EventDefinition<TType, TVersion, TAggregate, TSchema> {
  if (!EVENT_TYPE_PATTERN.test(definition.type)) {
    throw new EventsConfigError(`event type "${definition.type}" must look like "ticket.updated"`);
  }
  if (!AGGREGATE_TYPE_PATTERN.test(definition.aggregateType)) {
    throw new EventsConfigError(`aggregate type "${definition.aggregateType}" must be lower case`);
  }
  if (!Number.isInteger(definition.version) || definition.version < 1) {
    throw new EventsConfigError(`event ${definition.type}: version must be a positive integer`);
  }
  return Object.freeze({ ...definition });
}

function issuesOf(error: z.ZodError): string[] {
  return error.issues.map((i) => `${i.path.length ? i.path.join(".") : "(root)"}: ${i.message}`);
}

/**
 * The set of event definitions a service knows, plus the topic of each aggregate type
 * (one topic per aggregate type, keyed by aggregate id — CONVENTIONS.md "Events").
 */
export class EventRegistry<D extends AnyEventDefinition = AnyEventDefinition> {
  readonly definitions: readonly D[];
  private readonly byKey = new Map<string, D>();
  private readonly versionsByType = new Map<string, number[]>();
  private readonly topicByAggregate: ReadonlyMap<string, string>;

  /**
   * @param definitions every (type, version) the service shares.
   * @param topics aggregate type → topic name; every aggregate type used must be mapped.
   * @throws EventsConfigError on a duplicate (type, version), a type split across aggregate types,
   *   or an unmapped aggregate type.
   */
  constructor(definitions: readonly D[], topics: Readonly<Record<D["aggregateType"], string>>) {
    this.definitions = definitions;
    const topicEntries: Array<[string, string]> = Object.entries<string>(topics);
    this.topicByAggregate = new Map(topicEntries);
    const aggregateOfType = new Map<string, string>();
    for (const def of definitions) {
      const key = `${def.type}@${def.version}`;
      if (this.byKey.has(key)) throw new EventsConfigError(`event ${key} is registered twice`);
      this.byKey.set(key, def);
      const aggregate = aggregateOfType.get(def.type);
      if (aggregate !== undefined && aggregate !== def.aggregateType) {
        throw new EventsConfigError(`event ${def.type} is registered for two aggregate types`);
      }
      aggregateOfType.set(def.type, def.aggregateType);
      if (!this.topicByAggregate.has(def.aggregateType)) {
        throw new EventsConfigError(`aggregate type "${def.aggregateType}" has no topic`);
      }
      const versions = this.versionsByType.get(def.type) ?? [];
      versions.push(def.version);
      versions.sort((a, b) => a - b);
      this.versionsByType.set(def.type, versions);
    }
  }

  /**
   * A copy of this registry with other topic names (tests use unique topics per test; a staging
   * cluster may use a prefix).
   */
  withTopics(topics: Readonly<Record<D["aggregateType"], string>>): EventRegistry<D> {
    return new EventRegistry(this.definitions, topics);
  }

  /**
   * A copy of this registry whose every topic is `<prefix>.<topic>` (dead-letter topics follow, as
   * `<topic>.dlq`): several deployments or test runs can share one Kafka cluster without reading each
   * other's events. Kafka topic names allow `[a-zA-Z0-9._-]`, at most 249 characters (Kafka docs,
   * "Topic naming").
   *
   * @throws EventsConfigError when `prefix` is empty or has other characters.
   */
  withTopicPrefix(prefix: string): EventRegistry<D> {
    if (!/^[a-zA-Z0-9_-][a-zA-Z0-9._-]*$/.test(prefix)) {
      throw new EventsConfigError(
        `topic prefix "${prefix}" must match [a-zA-Z0-9._-]+ and not start with "."`,
      );
    }
    const topics = Object.fromEntries(
      [...this.topicByAggregate].map(([aggregate, topic]) => [aggregate, `${prefix}.${topic}`]),
    ) as Record<D["aggregateType"], string>;
    return new EventRegistry(this.definitions, topics);
  }

  /** @throws UnknownEventError for an aggregate type without a topic. */
  topicFor(aggregateType: string): string {
    const topic = this.topicByAggregate.get(aggregateType);
    if (topic === undefined) throw new UnknownEventError(`aggregate type "${aggregateType}" has no topic`);
    return topic;
  }

  /** Distinct topic names, sorted. */
  topics(): string[] {
    return [...new Set(this.topicByAggregate.values())].sort();
  }

  /** Topics that carry the given event types. @throws UnknownEventError for an unknown type. */
  topicsForTypes(types: Iterable<string>): string[] {
    const result = new Set<string>();
    for (const type of types) {
      const version = this.versionsByType.get(type)?.[0];
      if (version === undefined) throw new UnknownEventError(`event type "${type}" is not registered`);
      const def = this.byKey.get(`${type}@${version}`);
      if (def) result.add(this.topicFor(def.aggregateType));
    }
    return [...result].sort();
  }

  definition(type: string, version: number): D | undefined {
    return this.byKey.get(`${type}@${version}`);
  }

  /** Registered versions of a type, ascending (empty when unknown). */
  versions(type: string): number[] {
    return [...(this.versionsByType.get(type) ?? [])];
  }

  /**
   * Validates a draft's data and returns the parsed data (unknown keys stripped).
   *
   * @throws UnknownEventError when (type, version) is not registered.
   * @throws InvalidEventError when `data` fails the schema.
   */
  parseData(type: string, version: number, data: unknown): { definition: D; data: unknown } {
    const definition = this.definition(type, version);
    if (!definition) throw new UnknownEventError(`event ${type}@${version} is not registered`);
    const parsed = definition.schema.safeParse(data);
    if (!parsed.success) {
      throw new InvalidEventError(`invalid data for ${type}@${version}`, issuesOf(parsed.error));
    }
    return { definition, data: parsed.data };
  }

  /**
   * Decodes a Kafka message value (UTF-8 JSON envelope). Never throws: every outcome is a value, so
   * a consumer can decide explicitly (apply, skip or dead-letter).
   */
  decode(value: Buffer | string | null): DecodeResult<D> {
    if (value === null) return { kind: "invalid", reason: "message has no value" };
    let json: unknown;
    try {
      json = JSON.parse(typeof value === "string" ? value : value.toString("utf8"));
    } catch (error) {
      return { kind: "invalid", reason: `value is not JSON: ${(error as Error).message}` };
    }
    const envelope = envelopeSchema.safeParse(json);
    if (!envelope.success) {
      return { kind: "invalid", reason: `invalid envelope: ${issuesOf(envelope.error).join("; ")}` };
    }
    const { type, schemaVersion } = envelope.data;
    const definition = this.definition(type, schemaVersion);
    if (!definition) {
      const known = this.versions(type);
      return known.length
        ? { kind: "unknown-version", type, version: schemaVersion, known }
        : { kind: "unknown-type", type, version: schemaVersion };
    }
    if (definition.aggregateType !== envelope.data.aggregateType) {
      return {
        kind: "invalid",
        reason: `${type} belongs to aggregate type "${definition.aggregateType}", not "${envelope.data.aggregateType}"`,
      };
    }
    const data = definition.schema.safeParse(envelope.data.data);
    if (!data.success) {
      return {
        kind: "invalid",
        reason: `invalid data for ${type}@${schemaVersion}: ${issuesOf(data.error).join("; ")}`,
      };
    }
    const event = { ...envelope.data, data: data.data } as EventOf<D>;
    return { kind: "ok", event, definition };
  }
}
