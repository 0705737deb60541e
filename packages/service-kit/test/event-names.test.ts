import { boxofficeRegistry } from "@boxoffice/events";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { envFields, eventNames, loadEnv } from "../src/index.ts";

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
});
