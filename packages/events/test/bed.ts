/**
 * The set-up most events tests share, written once: a describe block's own topics, Kafka client and
 * PostgreSQL schema, created before its tests and removed after them. (Apart from helpers.ts, which
 * the fixtures' child processes import without vitest.)
 */
import { afterAll, beforeAll } from "vitest";
import {
  createTopics,
  deleteTopics,
  testKafka,
  testRegistry,
  testSchema,
  uid,
  type TestSchema,
} from "./helpers.ts";

/**
 * Registers the block's `beforeAll` (a fresh `testSchema()`, then the registry's topics with
 * `partitions` partitions each, plus `.dlq`) and `afterAll` (drop the schema, delete the topics).
 * Hooks the block registers after this call run after these before its tests and before these
 * after them.
 *
 * @returns `id` (the block's random id), `registry` (topics `t<id>.…`), `kafka`, and `db`, readable
 *   inside hooks and tests.
 * @throws Error reading `db` before the block's `beforeAll` ran.
 */
export function useEventsBed(partitions: number) {
  const id = uid();
  const registry = testRegistry(id);
  const kafka = testKafka();
  let db: TestSchema | undefined;
  beforeAll(async () => {
    db = await testSchema();
    await createTopics(kafka, registry, partitions);
  });
  afterAll(async () => {
    await db?.drop();
    await deleteTopics(kafka, registry);
  });
  return {
    id,
    registry,
    kafka,
    get db(): TestSchema {
      if (!db) throw new Error("the events bed is not set up yet (read db inside a hook or test)");
      return db;
    },
  };
}
