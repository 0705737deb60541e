import { runPurchaseJourney } from "@boxoffice/example-purchase-client";
import { startPlatform, type Platform } from "@boxoffice/platform";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let platform: Platform;

beforeAll(async () => {
  platform = await startPlatform({
    adminDatabaseUrl: process.env.DATABASE_URL!,
    kafkaBrokers: process.env.KAFKA_BROKERS!,
  });
});
afterAll(async () => {
  await platform?.stop();
});

describe("example Apollo Client (cookie jar per user)", () => {
  it("runs the purchase journey against the started platform", async () => {
    const result = await runPurchaseJourney(platform.gatewayUrl);
    expect(result).toMatchObject({ orderStatus: "COMPLETED", ticketStatus: "SOLD", amountMinor: 6_000 });
  });
});
