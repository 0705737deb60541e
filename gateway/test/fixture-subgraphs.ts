import { buildSubgraphSchema } from "@apollo/subgraph";
import { createLogger, startService, type RunningService } from "@boxoffice/service-kit";
import { GraphQLError, parse } from "graphql";

/** Cookies with `Expires` dates, whose commas make naive header joining ambiguous. */
export const SESSION_COOKIES = [
  "session=abc.def.ghi; Path=/; Expires=Wed, 21 Oct 2037 07:28:00 GMT; HttpOnly; SameSite=Lax",
  "theme=dark; Path=/; Expires=Thu, 22 Oct 2037 07:28:00 GMT",
];

export const USERS_SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
  type User @key(fields: "id") { id: ID! email: String }
  type Query {
    "Headers this subgraph received, as JSON."
    echoHeaders: String
    secret: String
    boom: String
    "Answers after 3 s (a stalled subgraph)."
    slow: String
    chain: Chain
  }
  type Chain { next: Chain value: Int }
  type Mutation { login: Boolean }
`;

export const ITEMS_SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
  type User @key(fields: "id", resolvable: false) { id: ID! }
  type Item @key(fields: "id") { id: ID! owner: User }
  type Query { items: [Item!]! }
`;

export interface Fixture {
  users: RunningService;
  items: RunningService;
  /** Operations each subgraph executed, to prove that rejected requests never reached them. */
  calls: { users: number; items: number };
  stop: () => Promise<void>;
}

interface Ctx {
  headers: Record<string, string | string[] | undefined>;
  res: { appendHeader: (name: string, value: string) => void };
}

/** Two real subgraphs (Apollo Server + @apollo/subgraph over HTTP on 127.0.0.1). */
export async function startFixture(): Promise<Fixture> {
  const logger = createLogger("fixture", "silent");
  const calls = { users: 0, items: 0 };
  const chain = (): Record<string, unknown> => ({ value: 1, next: chain });
  const users = await startService<Ctx>({
    name: "users",
    port: 0,
    logger,
    schema: buildSubgraphSchema({
      typeDefs: parse(USERS_SDL),
      resolvers: {
        Query: {
          echoHeaders: (_p: unknown, _a: unknown, ctx: unknown) => JSON.stringify((ctx as Ctx).headers),
          secret: () => {
            throw new GraphQLError("Sign in to see this.", { extensions: { code: "UNAUTHENTICATED" } });
          },
          boom: () => {
            throw new Error("db password is hunter2");
          },
          chain,
          slow: () => new Promise((resolve) => setTimeout(() => resolve("late"), 3000)),
        },
        Mutation: {
          login: (_p: unknown, _a: unknown, ctx: unknown) => {
            for (const c of SESSION_COOKIES) (ctx as Ctx).res.appendHeader("Set-Cookie", c);
            return true;
          },
        },
        User: {
          __resolveReference: (ref: { id: string }) => ({ id: ref.id, email: `${ref.id}@example.test` }),
        },
      },
    }),
    context: ({ req, res }) => {
      calls.users += 1;
      // Like auth-verify's context: a present but invalid token refuses the whole operation (401).
      if (req.headers.authorization === "Bearer forged") {
        throw new GraphQLError("Authentication failed", {
          extensions: { code: "UNAUTHENTICATED", reason: "BAD_SIGNATURE", http: { status: 401 } },
        });
      }
      return Promise.resolve({ headers: req.headers, res });
    },
  });
  const items = await startService({
    name: "items",
    port: 0,
    logger,
    schema: buildSubgraphSchema({
      typeDefs: parse(ITEMS_SDL),
      resolvers: { Query: { items: () => [{ id: "i1", owner: { id: "u1" } }] } },
    }),
    context: () => {
      calls.items += 1;
      return Promise.resolve({});
    },
  });
  return {
    users,
    items,
    calls,
    stop: async () => {
      await users.stop();
      await items.stop();
    },
  };
}
