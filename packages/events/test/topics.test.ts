/**
 * ensureTopics against the real broker: event and dead-letter topics keep every event
 * (retention.ms=-1, what a read-model rebuild needs), also topics created before that rule, without
 * losing their other settings; and it answers only once the new topics are usable, also while other
 * clients create and delete topics at the same time (what test files running side by side do).
 */
import { afterAll, describe, expect, it } from "vitest";
import { ensureTopics, topicSpecsFor, waitForLeaders } from "../src/index.ts";
import { deleteTopics, testKafka, testRegistry, uid } from "./helpers.ts";

const kafka = testKafka("topics-test");
const registry = testRegistry(uid());

afterAll(async () => {
  await deleteTopics(kafka, registry);
});

async function configsOf(topic: string): Promise<Record<string, string>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { resources } = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: 2 /* topic */, name: topic }],
    });
    return Object.fromEntries(resources[0]!.configEntries.map((e) => [e.configName, e.configValue]));
  } finally {
    await admin.disconnect();
  }
}

describe("ensureTopics", () => {
  it("creates topics that keep every event, and brings an older topic to it while keeping its own settings", async () => {
    const specs = topicSpecsFor(registry, { partitions: 2, replicationFactor: 1 });
    const [older, ...rest] = specs;
    // A topic from before the rule: broker-default retention, and a setting an operator chose.
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({
        // kafkajs' own wait fails beside other test files (waitForLeaders in topics.ts says why).
        waitForLeaders: false,
        topics: [
          {
            topic: older!.topic,
            numPartitions: 2,
            replicationFactor: 1,
            configEntries: [{ name: "segment.ms", value: "3600000" }],
          },
        ],
      });
      // Until then describeConfigs may answer UNKNOWN_TOPIC_OR_PARTITION (fresh-clone run 16).
      await waitForLeaders(admin, [older!.topic], 30_000);
    } finally {
      await admin.disconnect();
    }
    expect((await configsOf(older!.topic))["retention.ms"]).toBe("604800000");

    const result = await ensureTopics(kafka, specs);
    expect(result.created.sort()).toEqual(rest.map((s) => s.topic).sort());
    expect(result.reconfigured).toEqual([older!.topic]);
    for (const spec of specs) expect((await configsOf(spec.topic))["retention.ms"], spec.topic).toBe("-1");
    expect((await configsOf(older!.topic))["segment.ms"]).toBe("3600000");

    // Idempotent: nothing to create or change the second time.
    expect(await ensureTopics(kafka, specs)).toMatchObject({ created: [], reconfigured: [], mismatched: [] });
  });

  it("resolves once new topics have leaders, while other clients create and delete topics beside it", async () => {
    // Six clients, five rounds: each creates eight topics then deletes them. When ensureTopics used
    // kafkajs' createTopics({ waitForLeaders: true }), 53 of 60 such rounds failed here, with
    // UNKNOWN_TOPIC_OR_PARTITION ("This server does not host this topic-partition") from its wait.
    const failures: string[] = [];
    const round = async (name: string) => {
      const topics = Array.from({ length: 8 }, (_, k) => `${name}-${k}`);
      const admin = kafka.admin();
      await admin.connect();
      try {
        await ensureTopics(
          kafka,
          topics.map((topic) => ({ topic, partitions: 3, replicationFactor: 1 })),
        );
        // Usable: every partition of every new topic has a leader in another client's metadata.
        const metadata = await admin.fetchTopicMetadata({ topics });
        expect(metadata.topics.flatMap((t) => t.partitions.map((p) => p.leader >= 0))).toEqual(
          Array<boolean>(24).fill(true),
        );
      } catch (error) {
        failures.push(`${name}: ${(error as Error).message}`);
      } finally {
        const present = new Set(await admin.listTopics());
        await admin.deleteTopics({ topics: topics.filter((t) => present.has(t)) }).catch(() => undefined);
        await admin.disconnect();
      }
    };
    const prefix = `race-${uid()}`;
    for (let i = 0; i < 5; i += 1) {
      await Promise.all([0, 1, 2, 3, 4, 5].map((c) => round(`${prefix}-${i}-${c}`)));
    }
    expect(failures).toEqual([]);
  });
});
