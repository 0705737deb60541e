/** The sandbox provider's documented, deterministic behaviour (no infrastructure involved). */
import { describe, expect, it } from "vitest";
import { TransientProviderError } from "./payment-provider.ts";
import { createSandboxProvider } from "./sandbox.ts";

const request = (token: string, idempotencyKey = "pay-1") => ({
  idempotencyKey,
  token,
  amountMinor: 8_500,
  currency: "EUR",
});

describe("sandbox provider", () => {
  it("tok_success captures once per idempotency key; repeating the key returns the same result without a new capture", async () => {
    const sandbox = createSandboxProvider();
    const first = await sandbox.charge(request("tok_success"));
    expect(first).toMatchObject({ outcome: "succeeded" });
    expect(await sandbox.charge(request("tok_success"))).toEqual(first);
    expect(sandbox.charges()).toHaveLength(1);
    expect(sandbox.calls("pay-1")).toBe(2);
    // Deterministic: a fresh sandbox gives the same reference for the same key.
    expect(await createSandboxProvider().charge(request("tok_success"))).toEqual(first);
  });

  it.each([
    ["tok_decline", "card_declined"],
    ["tok_insufficient_funds", "insufficient_funds"],
    ["tok_unknown", "invalid_token"],
  ])(
    "%s is declined with reason %s, captures nothing, and stays declined for that key",
    async (token, reason) => {
      const sandbox = createSandboxProvider();
      expect(await sandbox.charge(request(token))).toMatchObject({ outcome: "declined", reason });
      expect(await sandbox.charge(request("tok_success"))).toMatchObject({ outcome: "declined", reason });
      expect(sandbox.charges()).toEqual([]);
    },
  );

  it("tok_transient fails the first call per key, then captures; tok_transient_3 fails three", async () => {
    const sandbox = createSandboxProvider();
    await expect(sandbox.charge(request("tok_transient"))).rejects.toBeInstanceOf(TransientProviderError);
    expect(await sandbox.charge(request("tok_transient"))).toMatchObject({ outcome: "succeeded" });
    for (let i = 0; i < 3; i += 1) {
      await expect(sandbox.charge(request("tok_transient_3", "pay-2"))).rejects.toBeInstanceOf(
        TransientProviderError,
      );
    }
    expect(await sandbox.charge(request("tok_transient_3", "pay-2"))).toMatchObject({ outcome: "succeeded" });
    expect(sandbox.charges().map((c) => c.idempotencyKey)).toEqual(["pay-1", "pay-2"]);
  });

  it("refund returns a capture once per key and once per charge, even after a restart; a foreign reference is a caller bug", async () => {
    const sandbox = createSandboxProvider();
    const charge = await sandbox.charge(request("tok_success"));
    if (charge.outcome !== "succeeded") throw new Error("expected a capture");
    const refund = {
      idempotencyKey: "refund-pay-1",
      chargeReference: charge.reference,
      amountMinor: 8_500,
      currency: "EUR",
    };
    const first = await sandbox.refund(refund);
    expect(await sandbox.refund(refund)).toEqual(first);
    expect(await sandbox.refund({ ...refund, idempotencyKey: "another-key" })).toEqual(first);
    expect(sandbox.refunds()).toEqual([{ ...refund, reference: first.reference }]);
    // After a restart the sandbox has forgotten its captures; its own references are still refundable.
    const restarted = createSandboxProvider();
    expect(await restarted.refund(refund)).toEqual(first);
    await expect(
      sandbox.refund({ ...refund, idempotencyKey: "k", chargeReference: "ch_from_elsewhere" }),
    ).rejects.toThrow(TypeError);
  });

  it("lookup returns the decided outcome of a key, and null for a key never decided", async () => {
    const sandbox = createSandboxProvider();
    await expect(sandbox.charge(request("tok_transient", "k-1"))).rejects.toBeInstanceOf(
      TransientProviderError,
    );
    expect(await sandbox.lookup("k-1")).toBeNull();
    const captured = await sandbox.charge(request("tok_transient", "k-1"));
    expect(await sandbox.lookup("k-1")).toEqual(captured);
    expect(await sandbox.lookup("never-seen")).toBeNull();
  });
});
