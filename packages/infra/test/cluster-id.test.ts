import { describe, expect, it } from "vitest";
import { newClusterId } from "../src/kafka.ts";

describe("KRaft cluster id", () => {
  // A fresh-clone test run failed once formatting Kafka storage with the id "-s-1qvPZ-xtWLsMG_J5pgw":
  // the storage tool took it for an option. One id in 64 starts with "-" if nothing prevents it.
  it("is Kafka's Uuid text form (22 base64url characters) and never starts with '-'", () => {
    const ids = Array.from({ length: 5_000 }, () => newClusterId());
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
