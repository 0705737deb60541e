import { runPurchaseJourney } from "@boxoffice/example-purchase-client";
import { describe, expect, it } from "vitest";
import { world } from "./platform.ts";

describe("example Apollo Client (cookie jar per user)", () => {
  it("runs the purchase journey against the started platform", async () => {
    const result = await runPurchaseJourney(world.platform.gatewayUrl);
    expect(result).toMatchObject({ orderStatus: "COMPLETED", ticketStatus: "SOLD", amountMinor: 6_000 });
  });
});
