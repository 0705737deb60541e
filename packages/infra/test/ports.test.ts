/**
 * `freePort` and `freePortPair` as a platform uses them: many drawn before anything binds them.
 * A port found free is still free until its process binds it, so only the draw's own memory keeps
 * two draws apart (a fresh-clone run gave two subgraphs of one platform the same port).
 */
import { describe, expect, it } from "vitest";
import { freePort, freePortPair } from "../src/ports.ts";

describe("free ports", () => {
  it("never hands out the same port twice in one process, drawn in turn or at once", async () => {
    // 1 500 draws from 12 700 ports: random draws alone would repeat one with near certainty
    // (birthday bound: 1 − e^(−1500²/(2·12700)) ≈ 1).
    const inTurn: number[] = [];
    for (let i = 0; i < 1_000; i += 1) inTurn.push(await freePort());
    const atOnce = await Promise.all(Array.from({ length: 200 }, () => freePort()));
    const pairs = await Promise.all(Array.from({ length: 150 }, () => freePortPair()));
    const all = [...inTurn, ...atOnce, ...pairs.flatMap((p) => [p, p + 1])];
    expect(new Set(all).size).toBe(all.length);
    for (const port of all) {
      expect(port).toBeGreaterThanOrEqual(20_000);
      expect(port).toBeLessThan(32_700);
    }
  });
});
