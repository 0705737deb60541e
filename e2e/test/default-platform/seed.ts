import { seed } from "@boxoffice/platform";
import { graphqlRequest } from "@boxoffice/service-kit/testing";
import { describe, expect, it } from "vitest";
import { world } from "./platform.ts";

describe("start --seed", () => {
  it("loads demo data through the public API, and a second run adds nothing", async () => {
    const first = await seed(world.platform.gatewayUrl);
    expect(first.ticketIds).toHaveLength(3);
    expect(first.orderId).toBeDefined();
    const second = await seed(world.platform.gatewayUrl);
    expect(second.ticketIds.sort()).toEqual([...first.ticketIds].sort());
    expect(second.orderId).toBeUndefined();

    const listed = await graphqlRequest(world.platform.gatewayUrl, "{ tickets(first: 100) { id status } }");
    const tickets = listed.body.data?.tickets as Array<{ id: string; status: string }>;
    expect(tickets.filter((t) => first.ticketIds.includes(t.id))).toHaveLength(3);
    const orders = await graphqlRequest(
      world.platform.gatewayUrl,
      "{ myOrders { id status } }",
      {},
      {
        authorization: `Bearer ${second.buyerToken}`,
      },
    );
    expect(orders.body.data?.myOrders).toEqual([{ id: first.orderId, status: "PENDING" }]);
  });
});
