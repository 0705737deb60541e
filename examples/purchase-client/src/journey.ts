/**
 * The purchase journey as a web app would run it, with Apollo Client: each user has their own
 * cookie jar (tough-cookie via fetch-cookie), so the session travels in the http-only cookie the
 * accounts subgraph sets — exactly like a browser with `credentials: "include"`.
 */
import { ApolloClient, gql, HttpLink, InMemoryCache } from "@apollo/client";
import makeFetchCookie from "fetch-cookie";
import { CookieJar } from "tough-cookie";

const SIGN_UP = gql`
  mutation SignUp($email: String!, $password: String!) {
    signUp(input: { email: $email, password: $password }) {
      user {
        id
        email
      }
    }
  }
`;
const CREATE_TICKET = gql`
  mutation CreateTicket($input: CreateTicketInput!) {
    createTicket(input: $input) {
      id
      status
    }
  }
`;
const CREATE_ORDER = gql`
  mutation CreateOrder($ticketId: ID!) {
    createOrder(ticketId: $ticketId) {
      id
      status
      amountMinor
      currency
    }
  }
`;
const PAY = gql`
  mutation Pay($orderId: ID!, $token: String!, $key: String!) {
    payForOrder(orderId: $orderId, paymentToken: $token, idempotencyKey: $key) {
      id
      status
    }
  }
`;
const ORDER = gql`
  query Order($id: ID!) {
    order(id: $id) {
      id
      status
    }
  }
`;
const TICKET = gql`
  query Ticket($id: ID!) {
    ticket(id: $id) {
      id
      status
    }
  }
`;

/** An Apollo Client with its own cookie jar, i.e. one browser profile. */
export function browserLikeClient(gatewayUrl: string): ApolloClient {
  const jar = new CookieJar();
  return new ApolloClient({
    link: new HttpLink({ uri: gatewayUrl, fetch: makeFetchCookie(fetch, jar), credentials: "include" }),
    cache: new InMemoryCache(),
    defaultOptions: { query: { fetchPolicy: "network-only" } },
  });
}

/** Retries `attempt` until `done(result)` or the deadline (events take a moment to reach read models). */
async function until<T>(
  attempt: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await attempt();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 200));
  }
}

export interface JourneyResult {
  ticketId: string;
  orderId: string;
  orderStatus: string;
  ticketStatus: string;
  amountMinor: number;
}

/**
 * Seller lists a ticket; buyer orders it and pays with the sandbox token `tok_success`; waits until
 * the order is COMPLETED and the ticket SOLD.
 *
 * @throws Error when a step fails (the message names it).
 */
export async function runPurchaseJourney(
  gatewayUrl: string,
  log: (line: string) => void = () => undefined,
): Promise<JourneyResult> {
  const stamp = `${Date.now()}.${Math.random().toString(36).slice(2, 8)}`;
  const seller = browserLikeClient(gatewayUrl);
  const buyer = browserLikeClient(gatewayUrl);
  const password = "example client passphrase";

  await seller.mutate({ mutation: SIGN_UP, variables: { email: `seller.${stamp}@example.test`, password } });
  await buyer.mutate({ mutation: SIGN_UP, variables: { email: `buyer.${stamp}@example.test`, password } });
  log("signed up a seller and a buyer (session cookies in each client's jar)");

  const listed = await seller.mutate<{ createTicket: { id: string } }>({
    mutation: CREATE_TICKET,
    variables: { input: { title: `Example client show ${stamp}`, priceMinor: 6_000, currency: "EUR" } },
  });
  const ticketId = listed.data!.createTicket.id;
  log(`seller listed ticket ${ticketId}`);

  const ordered = await until(
    () =>
      buyer.mutate<{ createOrder: { id: string; amountMinor: number } }>({
        mutation: CREATE_ORDER,
        variables: { ticketId },
        errorPolicy: "all",
      }),
    (r) => Boolean(r.data?.createOrder),
  );
  if (!ordered.data?.createOrder) throw new Error(`createOrder failed: ${String(ordered.error?.message)}`);
  const order = ordered.data.createOrder;
  log(`buyer ordered it: order ${order.id} for ${order.amountMinor} minor units`);

  const paid = await until(
    () =>
      buyer.mutate<{ payForOrder: { status: string } }>({
        mutation: PAY,
        variables: { orderId: order.id, token: "tok_success", key: `example-${order.id}` },
        errorPolicy: "all",
      }),
    (r) => Boolean(r.data?.payForOrder),
  );
  if (paid.data?.payForOrder.status !== "SUCCEEDED")
    throw new Error(`payment failed: ${String(paid.error?.message)}`);
  log("buyer paid with tok_success");

  const completed = await until(
    () => buyer.query<{ order: { status: string } }>({ query: ORDER, variables: { id: order.id } }),
    (r) => r.data?.order.status === "COMPLETED",
  );
  const sold = await until(
    () => seller.query<{ ticket: { status: string } }>({ query: TICKET, variables: { id: ticketId } }),
    (r) => r.data?.ticket.status === "SOLD",
  );
  log(`order ${completed.data?.order.status}, ticket ${sold.data?.ticket.status}`);
  return {
    ticketId,
    orderId: order.id,
    orderStatus: completed.data?.order.status ?? "unknown",
    ticketStatus: sold.data?.ticket.status ?? "unknown",
    amountMinor: order.amountMinor,
  };
}
