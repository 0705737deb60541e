/**
 * Federation with the real accounts subgraph behind @apollo/gateway: the tickets schema composes with
 * accounts', and a page of tickets with their sellers costs ONE `_entities` fetch to accounts
 * however many tickets and sellers the page has (no N+1 across subgraphs).
 */
import {
  ApolloGateway,
  IntrospectAndCompose,
  RemoteGraphQLDataSource,
  type GraphQLDataSourceProcessOptions,
} from "@apollo/gateway";
import { ApolloServer } from "@apollo/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  accountsUrl,
  createTicket,
  signUp,
  startHarness,
  type Harness,
  type TestUser,
} from "./support/harness.ts";

let harness: Harness;
let server: ApolloServer;
const fetches: Array<{ subgraph: string; query: string }> = [];

beforeAll(async () => {
  harness = await startHarness();
  const gateway = new ApolloGateway({
    supergraphSdl: new IntrospectAndCompose({
      subgraphs: [
        { name: "accounts", url: accountsUrl() },
        { name: "tickets", url: harness.url },
      ],
    }),
    buildService: ({ name, url }) =>
      new (class extends RemoteGraphQLDataSource {
        override willSendRequest(options: GraphQLDataSourceProcessOptions) {
          fetches.push({ subgraph: name, query: options.request.query ?? "" });
        }
      })({ url }),
  });
  server = new ApolloServer({ gateway });
  await server.start();
});
afterAll(async () => {
  await server?.stop();
  await harness?.stop();
});

describe("federation", () => {
  it("tickets(first: 50) { seller { email } } resolves 50 sellers with ONE _entities call to accounts", async () => {
    const sellers: TestUser[] = [];
    for (let i = 0; i < 5; i += 1) sellers.push(await signUp());
    for (let i = 0; i < 50; i += 1)
      await createTicket(harness, sellers[i % 5]!, { title: `Federation ${i}` });
    fetches.length = 0;
    const response = await server.executeOperation({
      query: "{ tickets(first: 50) { id seller { id email } } }",
    });
    if (response.body.kind !== "single") throw new Error("expected a single result");
    const { data, errors } = response.body.singleResult;
    expect(errors).toBeUndefined();
    const tickets = (data as { tickets: Array<{ seller: { id: string; email: string | null } }> }).tickets;
    expect(tickets).toHaveLength(50);
    const sellerIds = new Set(sellers.map((s) => s.id));
    // Resolved by accounts (one _entities call), but an anonymous reader sees no e-mail addresses.
    for (const ticket of tickets) {
      expect(sellerIds.has(ticket.seller.id)).toBe(true);
      expect(ticket.seller.email).toBeNull();
    }
    expect(fetches.filter((f) => f.subgraph === "tickets")).toHaveLength(1);
    expect(fetches.filter((f) => f.subgraph === "accounts" && f.query.includes("_entities"))).toHaveLength(1);
  });

  it("ticket(id) through the gateway joins the seller from accounts; the e-mail stays private", async () => {
    const seller = await signUp();
    const ticket = await createTicket(harness, seller);
    const response = await server.executeOperation({
      query: "query ($id: ID!) { ticket(id: $id) { id title seller { email } } }",
      variables: { id: ticket.id },
    });
    if (response.body.kind !== "single") throw new Error("expected a single result");
    expect(response.body.singleResult.data).toEqual({
      ticket: { id: ticket.id, title: ticket.title, seller: { email: null } },
    });
  });
});
