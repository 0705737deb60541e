import { randomUUID } from "node:crypto";
import { Kafka, logLevel } from "kafkajs";
import { describe, expect, it } from "vitest";

/**
 * Proof that the Kafka the tests run on is real and complete: a topic created through the admin
 * API (auto-creation is off), an idempotent producer with acks=all, and a consumer group that
 * receives the message and commits its offset to the broker.
 */
describe("Kafka proof (global-setup broker)", () => {
  it("admin-created topic → idempotent producer → consumer group receives and commits", async () => {
    const brokers = process.env.KAFKA_BROKERS?.split(",");
    if (!brokers) throw new Error("KAFKA_BROKERS is not set: the infra global setup did not run");
    const kafka = new Kafka({ clientId: "proof", brokers, logLevel: logLevel.NOTHING });
    const topic = `proof.${randomUUID()}`;
    const groupId = `proof.${randomUUID()}`;

    const admin = kafka.admin();
    await admin.connect();
    try {
      // Auto-creation is off: producing to a missing topic must not create it.
      const producer = kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
      });
      await producer.connect();
      const impatient = kafka.producer({ allowAutoTopicCreation: false, retry: { retries: 1 } });
      await impatient.connect();
      const missing = `missing.${randomUUID()}`;
      await expect(
        impatient.send({ topic: missing, acks: -1, messages: [{ value: "x" }] }),
      ).rejects.toThrow();
      await impatient.disconnect();
      expect(await admin.listTopics()).not.toContain(missing);

      expect(
        await admin.createTopics({
          topics: [{ topic, numPartitions: 2, replicationFactor: 1 }],
          // kafkajs' wait retries only LEADER_NOT_AVAILABLE and fails on UNKNOWN_TOPIC_OR_PARTITION,
          // which the broker answers beside other files' topic deletions (@boxoffice/events,
          // waitForLeaders); the producer below retries that error until the topic is usable.
          waitForLeaders: false,
        }),
      ).toBe(true);
      const [meta] = await producer.send({
        topic,
        acks: -1,
        messages: [{ key: "ticket-1", value: "hello" }],
      });
      expect(meta?.errorCode).toBe(0);
      await producer.disconnect();

      const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      const received = await new Promise<{ partition: number; offset: string; value: string }>((resolve) => {
        void consumer.run({
          autoCommit: false,
          eachMessage: async ({ partition, message }) => {
            await consumer.commitOffsets([
              { topic, partition, offset: (BigInt(message.offset) + 1n).toString() },
            ]);
            resolve({ partition, offset: message.offset, value: message.value?.toString() ?? "" });
          },
        });
      });
      await consumer.disconnect();
      expect(received.value).toBe("hello");

      const committed = await admin.fetchOffsets({ groupId, topics: [topic] });
      const partition = committed[0]?.partitions.find((p) => p.partition === received.partition);
      expect(partition?.offset).toBe((BigInt(received.offset) + 1n).toString());
    } finally {
      await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
      await admin.disconnect();
    }
  });
});
