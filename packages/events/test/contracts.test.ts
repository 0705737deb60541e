import { z } from "zod";
import { describe, expect, it } from "vitest";
import {
  BOXOFFICE_EVENTS,
  BOXOFFICE_TOPICS,
  boxofficeRegistry,
  createPublisher,
  defineEvent,
  EventRegistry,
  EventsConfigError,
  InvalidEventError,
  topicSpecsFor,
  UnknownEventError,
} from "../src/index.ts";

const publisher = createPublisher({ registry: boxofficeRegistry, producer: "tests" });

const ticket = {
  type: "ticket.updated" as const,
  schemaVersion: 1 as const,
  aggregateId: "t1",
  aggregateVersion: 2,
  data: {
    ticketId: "t1",
    title: "Opera",
    priceMinor: 4200,
    currency: "EUR",
    sellerId: "u1",
    status: "RESERVED" as const,
    version: 2,
  },
};

describe("contracts and registry", () => {
  it("maps every aggregate type to its topic, accounts carrying user and session", () => {
    expect(boxofficeRegistry.topics()).toEqual([
      "boxoffice.accounts.v1",
      "boxoffice.orders.v1",
      "boxoffice.payments.v1",
      "boxoffice.signing-keys.v1",
      "boxoffice.tickets.v1",
    ]);
    expect(boxofficeRegistry.topicFor("session")).toBe(BOXOFFICE_TOPICS.user);
    expect(BOXOFFICE_EVENTS.map((d) => `${d.type}@${d.version}`)).toHaveLength(12);
    expect(topicSpecsFor(boxofficeRegistry, { partitions: 6, replicationFactor: 3 })).toContainEqual({
      topic: "boxoffice.tickets.v1.dlq",
      partitions: 1,
      replicationFactor: 3,
      config: { "min.insync.replicas": "2", "retention.ms": "-1" },
    });
  });

  it("a topic prefix renames every topic (and so its dead-letter topic) and refuses names Kafka would refuse", () => {
    const staging = boxofficeRegistry.withTopicPrefix("staging-2");
    expect(staging.topics()).toEqual([
      "staging-2.boxoffice.accounts.v1",
      "staging-2.boxoffice.orders.v1",
      "staging-2.boxoffice.payments.v1",
      "staging-2.boxoffice.signing-keys.v1",
      "staging-2.boxoffice.tickets.v1",
    ]);
    expect(staging.topicFor("session")).toBe("staging-2.boxoffice.accounts.v1");
    expect(topicSpecsFor(staging, { partitions: 1, replicationFactor: 1 }).map((s) => s.topic)).toContain(
      "staging-2.boxoffice.tickets.v1.dlq",
    );
    // The events are the same; only where they travel changes.
    expect(staging.definitions).toBe(boxofficeRegistry.definitions);
    for (const bad of ["", ".hidden", "has space", "slash/y", "ümlaut"]) {
      expect(() => boxofficeRegistry.withTopicPrefix(bad), bad).toThrow(EventsConfigError);
    }
  });

  it("builds a complete envelope (UUIDv7 id, aggregate type from the registry) that decodes back", () => {
    const event = publisher.createEnvelope({
      ...ticket,
      traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    });
    expect(event).toMatchObject({
      type: "ticket.updated",
      aggregateType: "ticket",
      producer: "tests",
      aggregateVersion: 2,
    });
    expect(event.eventId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/);
    expect(boxofficeRegistry.decode(JSON.stringify(event))).toMatchObject({ kind: "ok", event });
  });

  it("rejects invalid data before it reaches the outbox", () => {
    expect(() => publisher.createEnvelope({ ...ticket, data: { ...ticket.data, currency: "euro" } })).toThrow(
      InvalidEventError,
    );
    expect(() => publisher.createEnvelope({ ...ticket, data: { ...ticket.data, priceMinor: 1.5 } })).toThrow(
      /priceMinor/,
    );
    expect(() => publisher.createEnvelope({ ...ticket, aggregateVersion: 3 })).toThrow(/data.version/);
    expect(() => publisher.createEnvelope({ ...ticket, schemaVersion: 2 as unknown as 1 })).toThrow(
      UnknownEventError,
    );
  });

  it("decodes every message into an explicit outcome: ok, invalid, unknown type, unknown version", () => {
    const event = publisher.createEnvelope(ticket);
    expect(boxofficeRegistry.decode(null)).toMatchObject({ kind: "invalid" });
    expect(boxofficeRegistry.decode("{oops")).toMatchObject({ kind: "invalid", reason: /not JSON/ });
    expect(boxofficeRegistry.decode(JSON.stringify({ ...event, eventId: "not-a-uuid" }))).toMatchObject({
      kind: "invalid",
      reason: /eventId/,
    });
    expect(
      boxofficeRegistry.decode(JSON.stringify({ ...event, data: { ...event.data, status: "LOST" } })),
    ).toMatchObject({ kind: "invalid", reason: /status/ });
    expect(boxofficeRegistry.decode(JSON.stringify({ ...event, aggregateType: "order" }))).toMatchObject({
      kind: "invalid",
    });
    expect(boxofficeRegistry.decode(JSON.stringify({ ...event, type: "ticket.teleported" }))).toEqual({
      kind: "unknown-type",
      type: "ticket.teleported",
      version: 1,
    });
    expect(boxofficeRegistry.decode(Buffer.from(JSON.stringify({ ...event, schemaVersion: 2 })))).toEqual({
      kind: "unknown-version",
      type: "ticket.updated",
      version: 2,
      known: [1],
    });
    // Tolerant reader: an unknown extra field (an additive change) is dropped, not rejected.
    const extra = boxofficeRegistry.decode(
      JSON.stringify({ ...event, data: { ...event.data, venue: "Hall" } }),
    );
    expect(extra.kind).toBe("ok");
    expect(extra.kind === "ok" && "venue" in (extra.event.data as object)).toBe(false);
  });

  it("refuses inconsistent registries at start-up", () => {
    const a = defineEvent({
      type: "thing.happened",
      version: 1,
      aggregateType: "thing",
      description: "",
      schema: z.object({}),
    });
    expect(() => new EventRegistry([a, a], { thing: "t" })).toThrow(EventsConfigError);
    expect(() => new EventRegistry([a], {} as { thing: string })).toThrow(/has no topic/);
    expect(() =>
      defineEvent({
        type: "ThingHappened",
        version: 1,
        aggregateType: "thing",
        description: "",
        schema: z.object({}),
      }),
    ).toThrow(EventsConfigError);
    const b = defineEvent({
      type: "thing.happened",
      version: 2,
      aggregateType: "other",
      description: "",
      schema: z.object({}),
    });
    expect(() => new EventRegistry([a, b], { thing: "t", other: "o" })).toThrow(/two aggregate types/);
  });

  it("a signing-key event carries only public key members, and its kid must be the key's", () => {
    const publicJwk = {
      kty: "OKP" as const,
      crv: "Ed25519",
      x: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
      kid: "k1",
      alg: "EdDSA",
      use: "sig" as const,
    };
    const draft = {
      type: "signing-key.published" as const,
      schemaVersion: 1 as const,
      aggregateId: "k1",
      aggregateVersion: 1,
      data: { kid: "k1", publicJwk, status: "PUBLISHED" as const, publishedAt: "2026-12-02T10:00:00Z" },
    };
    // A producer that slipped the private scalar in: it never reaches the outbox.
    const leaky = { ...draft, data: { ...draft.data, publicJwk: { ...publicJwk, d: "secret" } } };
    const event = publisher.createEnvelope(leaky);
    expect(event.data.publicJwk).toEqual(publicJwk);
    expect(JSON.stringify(event)).not.toContain("secret");
    expect(boxofficeRegistry.topicFor(event.aggregateType)).toBe("boxoffice.signing-keys.v1");
    expect(() => publisher.createEnvelope({ ...draft, data: { ...draft.data, kid: "k2" } })).toThrow(
      InvalidEventError,
    );
  });
});
