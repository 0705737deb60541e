import { randomBytes } from "node:crypto";
import { boxofficeRegistry, createKafka, silentLogger } from "@boxoffice/events";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { connectKafka, envFields, eventNames, loadEnv } from "../src/index.ts";

describe("eventNames (KAFKA_NAMESPACE)", () => {
  it("without a namespace: the standard topics and the service's own group namespace", () => {
    expect(eventNames("orders", undefined)).toEqual({
      registry: boxofficeRegistry,
      consumerGroupNamespace: "orders",
    });
  });

  it("with a namespace: every topic and every consumer group is prefixed", () => {
    const names = eventNames("orders", "e2e_1a2b");
    expect(names.consumerGroupNamespace).toBe("e2e_1a2b.orders");
    expect(names.registry.topics()).toEqual(boxofficeRegistry.topics().map((t) => `e2e_1a2b.${t}`));
  });

  it("KAFKA_NAMESPACE is validated with the rest of the environment", () => {
    const schema = z.object({ KAFKA_NAMESPACE: envFields.kafkaNamespace });
    expect(loadEnv(schema, {})).toEqual({});
    expect(loadEnv(schema, { KAFKA_NAMESPACE: "staging" })).toEqual({ KAFKA_NAMESPACE: "staging" });
    for (const bad of ["has.dot", "white space", "x".repeat(41)]) {
      expect(() => loadEnv(schema, { KAFKA_NAMESPACE: bad }), bad).toThrow(/KAFKA_NAMESPACE: use 1 to 40/);
    }
  });

  it("KAFKA_TOPIC_PARTITIONS and KAFKA_REPLICATION_FACTOR: defaults 3 and 1, whole positive numbers only", () => {
    const schema = z.object({
      KAFKA_TOPIC_PARTITIONS: envFields.kafkaTopicPartitions,
      KAFKA_REPLICATION_FACTOR: envFields.kafkaReplicationFactor,
    });
    expect(loadEnv(schema, {})).toEqual({ KAFKA_TOPIC_PARTITIONS: 3, KAFKA_REPLICATION_FACTOR: 1 });
    expect(loadEnv(schema, { KAFKA_TOPIC_PARTITIONS: "12", KAFKA_REPLICATION_FACTOR: "3" })).toEqual({
      KAFKA_TOPIC_PARTITIONS: 12,
      KAFKA_REPLICATION_FACTOR: 3,
    });
    for (const bad of ["0", "-1", "2.5", "three", "1001"]) {
      expect(() => loadEnv(schema, { KAFKA_TOPIC_PARTITIONS: bad }), bad).toThrow(/KAFKA_TOPIC_PARTITIONS/);
    }
    for (const bad of ["0", "1.5", "x"]) {
      expect(() => loadEnv(schema, { KAFKA_REPLICATION_FACTOR: bad }), bad).toThrow(
        /KAFKA_REPLICATION_FACTOR/,
      );
    }
  });
});

describe("connectKafka (topic layout from configuration)", () => {
  const brokers = (process.env.KAFKA_BROKERS ?? "").split(",");

  it("declares every topic with the configured partitions, and its dead-letter topic", async () => {
    const registry = boxofficeRegistry.withTopicPrefix(`layout_${randomBytes(4).toString("hex")}`);
    const kafka = await connectKafka({
      clientId: "layout-test",
      brokers,
      registry,
      logger: silentLogger,
      topics: { partitions: 5, replicationFactor: 1 },
    });
    const admin = kafka.admin();
    await admin.connect();
    try {
      const topics = registry.topics();
      const { topics: meta } = await admin.fetchTopicMetadata({ topics: [...topics, `${topics[0]}.dlq`] });
      expect(Object.fromEntries(meta.map((t) => [t.name, t.partitions.length]))).toEqual({
        ...Object.fromEntries(topics.map((t) => [t, 5])),
        [`${topics[0]}.dlq`]: 1,
      });
      await admin.deleteTopics({
        topics: (await admin.listTopics()).filter((t) => topics.some((p) => t.startsWith(p))),
      });
    } finally {
      await admin.disconnect();
    }
  });

  it("a replication factor above the number of brokers is refused at start, not ignored", async () => {
    const registry = boxofficeRegistry.withTopicPrefix(`layout_${randomBytes(4).toString("hex")}`);
    await expect(
      connectKafka({
        clientId: "layout-test",
        brokers,
        registry,
        logger: silentLogger,
        topics: { partitions: 3, replicationFactor: 3 },
      }),
    ).rejects.toMatchObject({
      // kafkajs's "Topic creation errors" carries the broker's error code per topic.
      errors: expect.arrayContaining([
        expect.objectContaining({ type: "INVALID_REPLICATION_FACTOR" }),
      ]) as unknown,
    });
    const admin = createKafka({ clientId: "layout-test", brokers }).admin();
    await admin.connect();
    const left = (await admin.listTopics()).filter((t) => registry.topics().includes(t));
    await admin.disconnect();
    expect(left).toEqual([]);
  });
});
