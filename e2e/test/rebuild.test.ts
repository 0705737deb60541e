/**
 * The storefront read model rebuilt from the topics, through the gateway: a world of sold, reserved,
 * cancelled and available tickets; the storefront's tables are lost; the rebuild command
 * (`pnpm --filter @boxoffice/storefront run rebuild-read-model`) replays every topic; after a restart every answer
 * a client can get — listings with their cursors, a buyer's orders, a seller's sales, availability —
 * is identical, and live events keep arriving.
 */
import { execFile } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { eventually, sql, uniqueWord, type TestUser, usePlatform } from "./support/client.ts";

const STOREFRONT_DIR = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "../../subgraphs/storefront",
);

const world = usePlatform();

/** Runs the storefront's rebuild command (what its `rebuild` script runs) with the storefront's env. */
async function rebuildCommand(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      // As the package script runs it. Anything on stderr is a failure (kafkajs 2.2.4's
      // TimeoutNegativeWarning, tulios/kafkajs#1751, is gone with the patch in patches/).
      ["--import", "tsx", "src/cli.ts", ...args],
      { cwd: STOREFRONT_DIR, env: world.platform.serviceEnv("storefront"), timeout: 120_000 },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

describe("storefront rebuild through the gateway", () => {
  it("after its tables are lost and rebuilt from the topics, the storefront answers exactly as before", async () => {
    const seller = await world.client.newUser("seller");
    const buyer = await world.client.newUser("buyer");
    const word = uniqueWord();
    const [sold, reserved, cancelled, available] = [
      await world.client.listTicket(seller, `${word} sold`, 5100),
      await world.client.listTicket(seller, `${word} reserved`, 5200),
      await world.client.listTicket(seller, `${word} cancelled`, 5300),
      await world.client.listTicket(seller, `${word} available`, 5400),
    ];
    await world.client.gql(
      `mutation ($id: ID!) { updateTicket(id: $id, input: { title: "${word} available, row 3" }) { id } }`,
      { id: available },
      seller.cookie,
    );
    const order = async (ticketId: string) =>
      ((await world.client.createOrder(ticketId, buyer)).body.data?.createOrder as { id: string }).id;
    const soldOrder = await order(sold);
    await order(reserved);
    const cancelledOrder = await order(cancelled);
    await world.client.gql(
      `mutation ($id: ID!) { cancelOrder(id: $id) { id } }`,
      { id: cancelledOrder },
      buyer.cookie,
    );
    const declinedThenPaid = await world.client.pay(soldOrder, "tok_decline", `d-${soldOrder}`, buyer);
    expect(declinedThenPaid.body.data?.payForOrder).toMatchObject({ status: "FAILED" });
    const paid = await world.client.pay(soldOrder, "tok_success", `p-${soldOrder}`, buyer);
    expect(paid.body.data?.payForOrder).toMatchObject({ status: "SUCCEEDED" });

    const tickets = [sold, reserved, cancelled, available];
    const answers = () => everyAnswer(word, tickets, buyer, seller);
    // Wait until the storefront has seen everything, then take what a client sees.
    const expected = {
      [sold]: "SOLD",
      [reserved]: "RESERVED",
      [cancelled]: "AVAILABLE",
      [available]: "AVAILABLE",
    };
    const before = await eventually(
      answers,
      (a) =>
        a.availability.every((t) => t?.availability === expected[t?.id ?? ""]) &&
        a.listings.edges.length === 4 &&
        a.listings.edges.every((e) => e.node.availability === expected[e.node.id]) &&
        JSON.stringify(a.sales).includes(soldOrder),
      20_000,
    );
    expect(before.listings.edges).toHaveLength(4);
    expect(before.orders).toHaveLength(3);

    // The rebuild refuses while the storefront runs (its consumer group has members).
    const refused = await rebuildCommand("--wait-seconds", "1");
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/the storefront is running .*stop it/);
    expect(await answers()).toEqual(before);

    await world.platform.stopService("storefront");
    // The read model is lost.
    await sql(
      world.platform,
      "TRUNCATE storefront.listings, storefront.orders, storefront.payments, storefront.users",
    );
    const rebuilt = await rebuildCommand();
    expect(rebuilt.stderr).toBe("");
    expect(rebuilt.code).toBe(0);
    expect(rebuilt.stdout).toMatch(/Rebuilt in [\d.]+ s: \d+ messages/);
    await world.platform.startService("storefront");

    expect(await answers()).toEqual(before);

    // Live consumption continues under the rebuild's group.
    const late = await world.client.listTicket(seller, `${word} late`, 5500);
    const after = await eventually(
      () =>
        world.client.gql(
          `query ($s: String!) { listings(filter: { search: $s }) { edges { node { id } } } }`,
          {
            s: word,
          },
        ),
      (r) => JSON.stringify(r.body.data).includes(late),
    );
    expect(JSON.stringify(after.body.data)).toContain(late);
  });
});

/** Everything a client can ask the storefront about these tickets and users, through the gateway. */
async function everyAnswer(word: string, tickets: string[], buyer: TestUser, seller: TestUser) {
  const page = async (after: string | null) =>
    (
      await world.client.gql(
        `query ($s: String!, $after: String) {
          listings(filter: { search: $s }, first: 2, after: $after) {
            edges { cursor node { id title priceMinor currency availability seller { id } } }
            endCursor hasNextPage
          }
        }`,
        { s: word, after },
      )
    ).body.data?.listings as
      | {
          edges: { node: { id: string; availability: string } }[];
          endCursor: string | null;
          hasNextPage: boolean;
        }
      | undefined;
  const first = await page(null);
  const second = first?.endCursor ? await page(first.endCursor) : undefined;
  const onlyAvailable = (
    await world.client.gql(
      `query ($s: String!) { listings(filter: { search: $s, onlyAvailable: true, minPrice: 5300 }) { edges { node { id } } } }`,
      { s: word },
    )
  ).body.data?.listings;
  const me = async (user: TestUser, fields: string) =>
    ((await world.client.gql(`{ me { ${fields} } }`, {}, user.cookie)).body.data?.me ?? null) as Record<
      string,
      unknown
    > | null;
  const availability = await Promise.all(
    tickets.map(
      async (id) =>
        (await world.client.gql(`query ($id: ID!) { ticket(id: $id) { id availability } }`, { id })).body.data
          ?.ticket as { id: string; availability: string } | undefined,
    ),
  );
  return {
    listings: {
      edges: [...(first?.edges ?? []), ...(second?.edges ?? [])],
      pages: [first?.hasNextPage, second?.hasNextPage],
    },
    onlyAvailable,
    orders: (
      await me(
        buyer,
        "orders { orderId ticketTitle ticketPrice { amountMinor currency } amount { amountMinor currency } status placedAt }",
      )
    )?.orders,
    sales: (
      await me(
        seller,
        "sales { items { orderId ticketTitle amount { amountMinor currency } placedAt } totalRevenue { amountMinor currency } }",
      )
    )?.sales,
    availability,
  };
}
