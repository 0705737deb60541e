import { afterEach, describe, expect, it, vi } from "vitest";
import { createPollingLoop } from "../src/index.ts";

afterEach(() => {
  vi.useRealTimers();
});

describe("createPollingLoop", () => {
  it("polls at once, again at once after a full batch, after the interval otherwise; a failing poll is logged and retried; stop ends it", async () => {
    vi.useFakeTimers();
    const errors: string[] = [];
    let polls = 0;
    const loop = createPollingLoop({
      name: "test job",
      pollIntervalMs: 1000,
      logger: {
        debug: () => undefined,
        info: () => undefined,
        warn: () => undefined,
        error: (message) => errors.push(message),
      },
      poll: () => {
        polls += 1;
        if (polls === 2) return Promise.reject(new Error("database went away"));
        return Promise.resolve(polls === 1); // the first poll handled a full batch
      },
    });
    loop.start();
    loop.start(); // idempotent
    await vi.advanceTimersByTimeAsync(0);
    expect(polls).toBe(2); // the first at once, the second right after its full batch (fails)
    expect(errors).toEqual(["test job poll failed"]);
    expect(loop.status()).toEqual({ running: true, lastError: "database went away" });
    await vi.advanceTimersByTimeAsync(999);
    expect(polls).toBe(2); // the failure waits the interval
    await vi.advanceTimersByTimeAsync(1);
    expect(polls).toBe(3);
    expect(loop.status().lastError).toBeNull();
    await loop.stop();
    await vi.advanceTimersByTimeAsync(5000);
    expect(polls).toBe(3);
    expect(loop.status()).toEqual({ running: false, lastError: null });
  });
});
