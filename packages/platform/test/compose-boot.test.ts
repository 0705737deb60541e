/**
 * `docker compose up`, proven without Docker: every service of docker-compose.yml runs as a real
 * process in its own network namespace, where compose's service names resolve to the other services
 * (see support/compose-network.ts), with exactly the environment and command compose and the
 * Dockerfile give it (see support/compose-runner.ts for the one path mapping and the engines). It
 * passes when every service becomes healthy in compose's order, the migration job exits 0, and the
 * gateway answers a mutation and a query that needs a verified session — which is what a user of
 * the compose file would try first.
 *
 * Needs root (network namespaces), as CI has; no Docker engine. The services use compose's own
 * ports inside their namespaces, so nothing collides with a platform running on this machine.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { createComposeNetwork, type ComposeNetwork } from "./support/compose-network.ts";
import { composeRunner, type ComposeService } from "./support/compose-runner.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const compose = parse(readFileSync(path.join(ROOT, "docker-compose.yml"), "utf8"), { merge: true }) as {
  services: Record<string, ComposeService>;
};
const services = compose.services;
const dockerfile = readFileSync(path.join(ROOT, "Dockerfile"), "utf8");

let network: ComposeNetwork | undefined;
let runner: ReturnType<typeof composeRunner> | undefined;

beforeAll(async () => {
  network = await createComposeNetwork(Object.keys(services));
  runner = composeRunner({ root: ROOT, services, dockerfile, network });
});

afterAll(async () => {
  await runner?.stop();
  await network?.close();
});

/** POSTs a GraphQL operation to the gateway as a browser on the host would (published port 4000). */
async function graphql(
  query: string,
  variables: Record<string, unknown>,
  cookie?: string,
): Promise<{ body: { data?: Record<string, unknown>; errors?: unknown[] }; cookies: string[] }> {
  const port = String(services.gateway?.environment?.GATEWAY_PORT);
  const response = await fetch(`http://${network!.address("gateway")}:${port}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(cookie ? { cookie } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return {
    body: (await response.json()) as { data?: Record<string, unknown>; errors?: unknown[] },
    cookies: response.headers.getSetCookie(),
  };
}

describe("docker compose up (every service in its own network namespace)", () => {
  it("starts every service healthy in compose's order, and the gateway answers a mutation and a signed-in query", async () => {
    // The gateway depends (healthy) on every subgraph, which depend on postgres, kafka and migrate.
    await runner!.ready("gateway");
    expect([...runner!.running.keys()].sort()).toEqual(Object.keys(services).sort());
    const migrate = runner!.running.get("migrate")!;
    expect(migrate.child.exitCode).toBe(0);

    const email = `compose-${Date.now()}@example.com`;
    const signUp = await graphql(
      `
        mutation ($e: String!, $p: String!) {
          signUp(input: { email: $e, password: $p }) {
            user {
              id
              email
            }
          }
        }
      `,
      { e: email, p: "correct horse battery staple" },
    );
    expect(signUp.body.errors).toBeUndefined();
    expect(signUp.body.data).toMatchObject({ signUp: { user: { email } } });
    const cookie = signUp.cookies.map((c) => c.split(";")[0]).join("; ");
    expect(cookie).not.toBe("");

    // myOrders is served by the orders subgraph, which verifies the session token against the
    // accounts JWKS at http://accounts:4001 — the URL compose gives it.
    const signedIn = await graphql(
      `
        {
          me {
            email
          }
          myOrders {
            id
          }
        }
      `,
      {},
      cookie,
    );
    expect(signedIn.body.errors).toBeUndefined();
    expect(signedIn.body.data).toEqual({ me: { email }, myOrders: [] });
    // The real limits are compose's own: each service's health-check budget (interval × retries, up
    // to 120 s per subgraph). This only stops a hung run; it sits above those budgets in sequence.
  }, 480_000);
});
