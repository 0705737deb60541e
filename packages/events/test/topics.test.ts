/**
 * ensureTopics against the real broker: event and dead-letter topics keep every event
 * (retention.ms=-1, what a read-model rebuild needs), also topics created before that rule, without
 * losing their other settings.
 */
import { afterAll, describe, expect, it } from "vitest";
import { ensureTopics, topicSpecsFor } from "../src/index.ts";
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
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        {
          topic: older!.topic,
          numPartitions: 2,
          replicationFactor: 1,
          configEntries: [{ name: "segment.ms", value: "3600000" }],
        },
      ],
    });
    await admin.disconnect();
    expect((await configsOf(older!.topic))["retention.ms"]).toBe("604800000");

    const result = await ensureTopics(kafka, specs);
    expect(result.created.sort()).toEqual(rest.map((s) => s.topic).sort());
    expect(result.reconfigured).toEqual([older!.topic]);
    for (const spec of specs) expect((await configsOf(spec.topic))["retention.ms"], spec.topic).toBe("-1");
    expect((await configsOf(older!.topic))["segment.ms"]).toBe("3600000");

    // Idempotent: nothing to create or change the second time.
    expect(await ensureTopics(kafka, specs)).toMatchObject({ created: [], reconfigured: [], mismatched: [] });
  });
});
