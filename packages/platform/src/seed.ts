/**
 * Demo data for `boxoffice-platform start --seed`, loaded only through the public GraphQL API
 * (never by writing tables): a seller with three listings and a buyer with one pending order.
 * Running it again finds the same users (sign-in) and adds nothing twice.
 */

export const DEMO_PASSWORD = "boxoffice demo password";
export const DEMO_SELLER = "seller@demo.boxoffice.test";
export const DEMO_BUYER = "buyer@demo.boxoffice.test";

const LISTINGS = [
  { title: "Radiohead — Arena, 2 Dec, standing", priceMinor: 8_500, currency: "EUR" },
  { title: "Kraftwerk 3-D — 14 Jan, seat 12B", priceMinor: 12_000, currency: "EUR" },
  { title: "Hamilton — matinee, 2 seats", priceMinor: 19_900, currency: "GBP" },
];

interface Body {
  data?: Record<string, unknown> | null;
  errors?: Array<{ message: string; extensions?: { code?: string } }>;
}

async function call(
  url: string,
  query: string,
  variables: Record<string, unknown>,
  token?: string,
): Promise<Body> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as Body;
}

async function session(url: string, email: string): Promise<string> {
  const vars = { e: email, p: DEMO_PASSWORD };
  const up = await call(
    url,
    `mutation ($e: String!, $p: String!) { signUp(input: { email: $e, password: $p }) { token } }`,
    vars,
  );
  const token = (up.data?.signUp as { token?: string } | undefined)?.token;
  if (token) return token;
  const inn = await call(
    url,
    `mutation ($e: String!, $p: String!) { signIn(input: { email: $e, password: $p }) { token } }`,
    vars,
  );
  const again = (inn.data?.signIn as { token?: string } | undefined)?.token;
  if (!again) throw new Error(`seed: cannot sign in ${email}: ${JSON.stringify(inn.errors ?? up.errors)}`);
  return again;
}

export interface SeedResult {
  sellerToken: string;
  buyerToken: string;
  ticketIds: string[];
  orderId?: string;
}

/**
 * Seeds the platform behind `gatewayUrl`.
 *
 * @throws Error naming the failed operation (the platform must be up).
 */
export async function seed(
  gatewayUrl: string,
  report: (line: string) => void = () => undefined,
): Promise<SeedResult> {
  const sellerToken = await session(gatewayUrl, DEMO_SELLER);
  const buyerToken = await session(gatewayUrl, DEMO_BUYER);
  const mine = await call(
    gatewayUrl,
    "{ tickets(first: 100) { id title seller { id } } me { id } }",
    {},
    sellerToken,
  );
  const me = (mine.data?.me as { id: string }).id;
  const existing = (
    mine.data?.tickets as Array<{ id: string; title: string; seller: { id: string } | null }>
  ).filter((t) => t.seller?.id === me);
  const ticketIds: string[] = existing.map((t) => t.id);
  for (const listing of LISTINGS) {
    if (existing.some((t) => t.title === listing.title)) continue;
    const created = await call(
      gatewayUrl,
      `mutation ($i: CreateTicketInput!) { createTicket(input: $i) { id } }`,
      { i: listing },
      sellerToken,
    );
    const id = (created.data?.createTicket as { id?: string } | undefined)?.id;
    if (!id) throw new Error(`seed: createTicket failed: ${JSON.stringify(created.errors)}`);
    ticketIds.push(id);
    report(`listed "${listing.title}"`);
  }
  if (existing.length > 0) return { sellerToken, buyerToken, ticketIds };

  // The orders subgraph learns of new tickets from events: retry while its replica catches up.
  const deadline = Date.now() + 30_000;
  for (;;) {
    const ordered = await call(
      gatewayUrl,
      `mutation ($t: ID!) { createOrder(ticketId: $t) { id } }`,
      { t: ticketIds[0] },
      buyerToken,
    );
    const orderId = (ordered.data?.createOrder as { id?: string } | undefined)?.id;
    if (orderId) {
      report(`ordered "${LISTINGS[0]!.title}" as ${DEMO_BUYER} (pending; expires unless paid)`);
      return { sellerToken, buyerToken, ticketIds, orderId };
    }
    if (ordered.errors?.[0]?.extensions?.code !== "NOT_FOUND" || Date.now() > deadline) {
      throw new Error(`seed: createOrder failed: ${JSON.stringify(ordered.errors)}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}
