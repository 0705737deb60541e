/**
 * Many instances on one machine: two instances of every subgraph and two gateways, one PostgreSQL
 * database and one Kafka namespace — what two replicas of every Deployment in
 * deploy/kubernetes do. Each subgraph's instances sit behind one round-robin address (the platform's
 * stand-in for a Kubernetes Service), so both gateways reach both instances.
 *
 * The purchase journey and a burst of mutations go through both gateways; one instance of every
 * subgraph is killed with SIGKILL mid-burst (no shutdown: its relay, consumers and workers stop
 * wherever they were). Afterwards, from the tables and from Kafka:
 * - no event lost: every outbox row was published and every consumer group's inbox holds every event
 *   of its topics that it handles; the replicas hold the newest version of every aggregate;
 * - none applied twice: one inbox row per (group, event), the effects counted per aggregate;
 * - each consumer group was spread over both instances, and its partitions moved to the survivor;
 * - expiry, refund and reconciliation each happened once per order or payment;
 * - every order settled: completed with one capture and a sold ticket, or cancelled with its ticket
 *   free (or sold to someone else) and every capture refunded.
 */
import { randomUUID } from "node:crypto";
import { SUBGRAPH_NAMES } from "@boxoffice/topology";
import { AssignerProtocol, Kafka, logLevel } from "kafkajs";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { eventNames } from "@boxoffice/service-kit";
import { eventually, gatewayClient, PAY, sql, usePlatform, type TestUser } from "./support/client.ts";

const PARTITIONS = 4;
const BURST = 16;

const world = usePlatform({
  instances: 2,
  gateways: 2,
  env: { KAFKA_TOPIC_PARTITIONS: String(PARTITIONS) },
  processEnv: {
    // Expiry within the test's patience, yet well past a dead consumer's session timeout (10 s,
    // DEFAULT_SESSION_TIMEOUT_MS of @boxoffice/events: its partitions wait that long for the
    // survivor) and the reconciler's shortest allowed window (31 s), polled often.
    orders: {
      ORDER_EXPIRATION_SECONDS: "35",
      ORDER_EXPIRATION_GRACE_SECONDS: "1",
      ORDER_EXPIRATION_POLL_MS: "200",
    },
    payments: {
      PAYMENTS_EXPIRY_MARGIN_SECONDS: "1",
      PAYMENTS_ABANDON_AFTER_SECONDS: "31",
      PAYMENTS_RECONCILE_POLL_MS: "500",
      PAYMENTS_REFUND_POLL_MS: "200",
    },
  },
});

type Client = ReturnType<typeof gatewayClient>;
type Reply = Awaited<ReturnType<Client["gql"]>>;

/** One client per gateway. */
function clients(): Client[] {
  return world.platform.gatewayUrls.map((gatewayUrl) => gatewayClient({ ...world.platform, gatewayUrl }));
}

/**
 * What a careful client does when an instance dies under its request: a reply that decided nothing
 * it knows of (connection reset, SERVICE_UNAVAILABLE, a gateway error) is sent again, through the
 * other gateway. Only safe for requests whose repetition is harmless (payForOrder repeats its
 * idempotency key; a repeated createOrder meets CONFLICT, a repeated createTicket lists twice).
 */
async function resilient(
  send: (client: Client) => Promise<Reply>,
  first: number,
): Promise<Reply | undefined> {
  const all = clients();
  // Long enough for a replica whose partitions sat with the killed instance: they wait for its Kafka
  // session to time out (10 s, DEFAULT_SESSION_TIMEOUT_MS) and a rebalance before the survivor takes
  // them over.
  const deadline = Date.now() + 50_000;
  for (let attempt = 0; Date.now() < deadline; attempt += 1) {
    try {
      const reply = await send(all[(first + attempt) % all.length]!);
      const code = reply.body.errors?.[0]?.extensions?.code;
      const undecided =
        reply.res.status >= 500 ||
        code === "SERVICE_UNAVAILABLE" ||
        code === "INTERNAL_SERVER_ERROR" ||
        code === "NOT_FOUND" || // a replica that has not caught up yet
        reply.body.errors?.[0]?.extensions?.reason === "PAYMENT_IN_PROGRESS"; // an attempt in flight
      if (!undecided) return reply;
    } catch {
      // The connection itself failed: the same as no answer.
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return undefined;
}

interface Purchase {
  buyer: TestUser;
  ticketId?: string;
  orderId?: string;
  paid?: string;
}

async function signUpThrough(client: Client, label: string): Promise<TestUser> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await client.newUser(label);
    } catch (error) {
      if (attempt >= 5) throw error;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/** Lists a ticket, orders it and pays it, each step through alternating gateways. */
async function purchase(
  i: number,
  seller: TestUser,
  buyer: TestUser,
  onListed: () => void,
): Promise<Purchase> {
  const result: Purchase = { buyer };
  const listed = await resilient(
    (c) =>
      c.gql(
        `mutation ($t: String!, $p: Int!) { createTicket(input: { title: $t, priceMinor: $p, currency: "EUR" }) { id } }`,
        { t: `Burst ${i}`, p: 1000 + i },
        seller.cookie,
      ),
    i,
  );
  result.ticketId = (listed?.body.data?.createTicket as { id: string } | undefined)?.id;
  if (!result.ticketId) return result;
  onListed();
  const ordered = await resilient(
    (c) =>
      c.gql(`mutation ($t: ID!) { createOrder(ticketId: $t) { id } }`, { t: result.ticketId }, buyer.cookie),
    i + 1,
  );
  result.orderId = (ordered?.body.data?.createOrder as { id: string } | undefined)?.id;
  if (!result.orderId) return result;
  const key = `burst-${i}-${randomUUID()}`;
  const paid = await resilient(
    (c) => c.gql(PAY, { o: result.orderId, t: "tok_success", k: key }, buyer.cookie),
    i,
  );
  result.paid = (paid?.body.data?.payForOrder as { status: string } | undefined)?.status;
  return result;
}

/** Each consumer group of the platform's namespace: its members and the topic-partitions each holds. */
async function consumerGroups(): Promise<Map<string, { topics: string[]; members: number[] }>> {
  const namespace = world.platform.serviceEnv("orders-1").KAFKA_NAMESPACE!;
  const admin = kafkaAdmin();
  await admin.connect();
  try {
    const ids = (await admin.listGroups()).groups
      .map((g) => g.groupId)
      .filter((g) => g.startsWith(`${namespace}.`));
    const { groups } = await admin.describeGroups(ids);
    return new Map(
      groups.map((g) => {
        const topics = new Set<string>();
        const members = g.members.map((m) => {
          const assignment = AssignerProtocol.MemberAssignment.decode(m.memberAssignment)?.assignment ?? {};
          for (const topic of Object.keys(assignment)) topics.add(topic);
          return Object.values(assignment).reduce((n, partitions) => n + partitions.length, 0);
        });
        return [g.groupId, { topics: [...topics].sort(), members }];
      }),
    );
  } finally {
    await admin.disconnect();
  }
}

function kafkaAdmin() {
  const brokers = process.env.KAFKA_BROKERS!.split(",");
  return new Kafka({ clientId: "many-instances-test", brokers, logLevel: logLevel.NOTHING }).admin();
}

const SCHEMAS = SUBGRAPH_NAMES;

describe("two instances of every subgraph and two gateways on one database and one Kafka", () => {
  const state: {
    purchases: Purchase[];
    refundOrder?: string;
    abandonedOrder?: string;
    groupsBefore?: Map<string, { topics: string[]; members: number[] }>;
  } = { purchases: [] };

  it(
    "journey and burst through both gateways, one instance of every subgraph killed mid-burst",
    { timeout: 150_000 },
    async () => {
      const [one, two] = clients() as [Client, Client];
      // Topic layout from configuration: every event topic has KAFKA_TOPIC_PARTITIONS partitions.
      const admin = kafkaAdmin();
      await admin.connect();
      const namespace = world.platform.serviceEnv("orders-1").KAFKA_NAMESPACE!;
      const topics = (await admin.listTopics()).filter(
        (t) => t.startsWith(`${namespace}.`) && !t.endsWith(".dlq"),
      );
      const { topics: meta } = await admin.fetchTopicMetadata({ topics });
      await admin.disconnect();
      expect(meta.map((t) => t.partitions.length)).toEqual(topics.map(() => PARTITIONS));
      // Exactly the event registry's topics (one per aggregate type), under this platform's namespace.
      expect([...topics].sort()).toEqual(eventNames("orders", namespace).registry.topics());

      // Every consumer group has both instances as members, each holding partitions (the second wave's
      // joins have been rebalanced) before any traffic. Both, not only the member count: while a group
      // rebalances, the broker already lists a joining member but has not given it partitions yet.
      state.groupsBefore = await eventually(
        consumerGroups,
        (groups) =>
          groups.size > 0 &&
          [...groups.values()].every((g) => g.members.length === 2 && g.members.every((n) => n > 0)),
      );
      const seller = await signUpThrough(one, "seller");
      const buyers = await Promise.all([0, 1, 2, 3].map((i) => signUpThrough(i % 2 ? two : one, "buyer")));

      // Reconciliation: a payment whose provider call failed transiently and was never retried stays
      // PENDING until a reconciler (either instance) settles it; its order expires meanwhile.
      const abandoned = await purchaseUpTo(one, two, seller, buyers[0]!, "tok_transient");
      state.abandonedOrder = abandoned;

      // Refund: the buyer cancels, then pays before payments has applied order.cancelled (held back
      // by a lock on payments' inbox: the consumers wait, nothing is written by the test), so the
      // capture succeeds and must be refunded once order.cancelled arrives.
      const ticket = await one.listTicket(seller, "Refunded one");
      const created = await two.createOrder(ticket, buyers[1]!);
      const order = created.body.data?.createOrder as { id: string } | undefined;
      if (!order) throw new Error(`createOrder failed: ${JSON.stringify(created.body)}`);
      state.refundOrder = order.id;
      await eventually(
        () => sql(world.platform, "SELECT 1 FROM payments.order_replica WHERE order_id = $1", [order.id]),
        (rows) => rows.length === 1,
      );
      const lock = new pg.Client({ connectionString: world.platform.databaseUrl });
      await lock.connect();
      try {
        await lock.query("BEGIN");
        await lock.query("LOCK TABLE payments.event_inbox IN SHARE MODE");
        const cancelled = await one.gql(
          `mutation ($id: ID!) { cancelOrder(id: $id) { status } }`,
          { id: order.id },
          buyers[1]!.cookie,
        );
        expect(cancelled.body.data?.cancelOrder).toEqual({ status: "CANCELLED" });
        const captured = await two.gql(
          PAY,
          { o: order.id, t: "tok_success", k: `refund-${order.id}` },
          buyers[1]!.cookie,
        );
        expect(captured.body.data?.payForOrder).toMatchObject({ status: "SUCCEEDED" });
      } finally {
        await lock.query("ROLLBACK");
        await lock.end();
      }

      // The burst: BURST purchases at once, alternating gateways; one instance of each subgraph is
      // killed (SIGKILL) once a quarter of the tickets are listed.
      let listed = 0;
      let killed: Promise<unknown> | undefined;
      const onListed = () => {
        listed += 1;
        if (listed === BURST / 4) {
          killed = Promise.all(
            SCHEMAS.map((s, i) => world.platform.signalService(`${s}-${(i % 2) + 1}`, "SIGKILL")),
          );
        }
      };
      const purchases = await Promise.all(
        Array.from({ length: BURST }, (_, i) => purchase(i, seller, buyers[i % buyers.length]!, onListed)),
      );
      expect(killed, "the kill happened during the burst").toBeDefined();
      await killed;
      for (const [i, s] of SCHEMAS.entries()) {
        expect(world.platform.processes.find((p) => p.name === `${s}-${(i % 2) + 1}`)?.child.signalCode).toBe(
          "SIGKILL",
        );
      }
      state.purchases = purchases;
      expect(purchases.filter((p) => p.orderId).length, JSON.stringify(purchases)).toBeGreaterThan(BURST / 2);
    },
  );

  it(
    "every order settles: completed with one capture and a sold ticket, or cancelled with nothing kept",
    { timeout: 150_000 },
    async () => {
      interface Row {
        id: string;
        order_status: string;
        reason: string | null;
        ticket_status: string;
        payments: string[];
      }
      const read = () =>
        sql<Row>(
          world.platform,
          `SELECT o.id::text, o.status::text AS order_status, o.cancellation_reason::text AS reason,
                  t.status::text AS ticket_status,
                  coalesce(array_agg(p.status::text ORDER BY p.created_at) FILTER (WHERE p.id IS NOT NULL), '{}') AS payments
             FROM orders.orders o
             JOIN tickets.tickets t ON t.id = o.ticket_id
             LEFT JOIN payments.payments p ON p.order_id = o.id
            GROUP BY o.id, t.status`,
        );
      const settled = (o: Row) =>
        (o.order_status === "COMPLETED" &&
          o.ticket_status === "SOLD" &&
          o.payments.filter((p) => p === "SUCCEEDED").length === 1 &&
          o.payments.every((p) => p === "SUCCEEDED" || p === "FAILED")) ||
        (o.order_status === "CANCELLED" && o.payments.every((p) => p === "REFUNDED" || p === "FAILED"));
      const rows = await eventually(read, (all) => all.length > 0 && all.every(settled), 140_000);
      for (const row of rows) expect(row, JSON.stringify(row)).toSatisfy(settled);
      // A ticket is sold at most once, and only with a completed order.
      const sold = await sql<{ id: string; completed: string }>(
        world.platform,
        `SELECT t.id::text, count(o.id) FILTER (WHERE o.status = 'COMPLETED')::text AS completed
           FROM tickets.tickets t LEFT JOIN orders.orders o ON o.ticket_id = t.id
          WHERE t.status = 'SOLD' GROUP BY t.id`,
      );
      expect(sold.filter((t) => t.completed !== "1")).toEqual([]);
      // A payment the client saw succeed completed its order: the kill lost none of them.
      const byId = new Map(rows.map((r) => [r.id, r]));
      const paid = state.purchases.filter((x) => x.paid === "SUCCEEDED");
      expect(paid.length).toBeGreaterThan(BURST / 2);
      for (const p of paid) expect(byId.get(p.orderId!)?.order_status, p.orderId).toBe("COMPLETED");
    },
  );

  it("expiry, refund and reconciliation each did their work once", async () => {
    const events = (schema: string, type: string, aggregateId: string) =>
      sql<{ n: string }>(
        world.platform,
        `SELECT count(*)::text AS n FROM ${schema}.event_outbox WHERE event_type = $1 AND aggregate_id = $2`,
        [type, aggregateId],
      ).then((r) => Number(r[0]?.n));
    // Expiry: the unpaid order was cancelled as EXPIRED, with one order.cancelled event.
    const [abandonedOrder] = await sql<{ status: string; reason: string }>(
      world.platform,
      "SELECT status::text, cancellation_reason::text AS reason FROM orders.orders WHERE id = $1",
      [state.abandonedOrder],
    );
    expect(abandonedOrder).toEqual({ status: "CANCELLED", reason: "EXPIRED" });
    const expired = await sql<{ id: string }>(
      world.platform,
      "SELECT id::text FROM orders.orders WHERE cancellation_reason = 'EXPIRED'",
    );
    for (const { id } of expired) expect(await events("orders", "order.cancelled", id), id).toBe(1);
    // Reconciliation: the payment left PENDING was closed once, as abandoned, with one payment.failed.
    const [payment] = await sql<{ id: string; status: string; reason: string }>(
      world.platform,
      "SELECT id::text, status::text, failure_reason AS reason FROM payments.payments WHERE order_id = $1",
      [state.abandonedOrder],
    );
    expect(payment).toMatchObject({ status: "FAILED", reason: "abandoned" });
    expect(await events("payments", "payment.failed", payment!.id)).toBe(1);
    // Refund: the capture of the cancelled order was refunded once, with one payment.refunded.
    const refunded = await sql<{ id: string; status: string; reference: string | null }>(
      world.platform,
      "SELECT id::text, status::text, refund_reference AS reference FROM payments.payments WHERE order_id = $1",
      [state.refundOrder],
    );
    expect(refunded).toEqual([
      { id: expect.any(String) as string, status: "REFUNDED", reference: expect.any(String) as string },
    ]);
    expect(await events("payments", "payment.refunded", refunded[0]!.id)).toBe(1);
    // Every refunded payment anywhere: one payment.refunded each.
    const allRefunded = await sql<{ id: string }>(
      world.platform,
      "SELECT id::text FROM payments.payments WHERE status = 'REFUNDED'",
    );
    for (const { id } of allRefunded) expect(await events("payments", "payment.refunded", id), id).toBe(1);
  });

  it("no event lost, none applied twice; each consumer group was spread over both instances and moved to the survivor", async () => {
    // Spread before the kill: two members per group, each holding partitions of every topic it reads.
    for (const [group, g] of state.groupsBefore!) {
      expect(g.members, group).toHaveLength(2);
      for (const n of g.members) expect(n, group).toBeGreaterThan(0);
    }
    // After: the survivor holds every partition (the dead member left when its session expired).
    const after = await eventually(
      consumerGroups,
      (groups) => [...groups.values()].every((g) => g.members.length === 1),
      60_000,
    );
    for (const [group, g] of after) {
      expect(g.members, group).toEqual([g.topics.length * PARTITIONS]);
      expect(g.topics, group).toEqual(state.groupsBefore!.get(group)!.topics);
    }

    // Every outbox row is published.
    for (const schema of SCHEMAS.filter((s) => s !== "storefront")) {
      const unpublished = await eventually(
        () => sql(world.platform, `SELECT event_id FROM ${schema}.event_outbox WHERE published_at IS NULL`),
        (rows) => rows.length === 0,
      );
      expect(unpublished, schema).toEqual([]);
    }
    // Every group's inbox holds every published event of its topics whose type it handles (the types it
    // ever applied). Its primary key (group, event id), written in the handler's transaction, is what
    // makes a redelivery after the kill a no-op; the effects below show none was applied twice.
    const outbox = SCHEMAS.filter((s) => s !== "storefront")
      .map((s) => `SELECT event_id, topic, event_type FROM ${s}.event_outbox`)
      .join(" UNION ALL ");
    for (const [group, g] of after) {
      const schema = SCHEMAS.find((s) => group.split(".")[1] === s)!;
      const missing = await eventually(
        () =>
          sql<{ event_type: string; n: string }>(
            world.platform,
            `WITH handled AS (SELECT DISTINCT event_type FROM ${schema}.event_inbox WHERE consumer_group = $1)
             SELECT o.event_type, count(*)::text AS n FROM (${outbox}) o
              WHERE o.topic = ANY($2) AND o.event_type IN (SELECT event_type FROM handled)
                AND NOT EXISTS (SELECT 1 FROM ${schema}.event_inbox i
                                 WHERE i.consumer_group = $1 AND i.event_id = o.event_id)
              GROUP BY o.event_type`,
            [group, g.topics],
          ),
        (rows) => rows.length === 0,
      );
      expect(missing, group).toEqual([]);
    }
    // The replicas and the storefront's read model hold the newest version of every aggregate (nothing
    // lost, nothing older applied last).
    const stale = await eventually(
      () =>
        sql(
          world.platform,
          `SELECT t.id FROM tickets.tickets t LEFT JOIN orders.ticket_replica r ON r.id = t.id
        WHERE r.version IS DISTINCT FROM t.version
       UNION ALL
       SELECT o.id FROM orders.orders o LEFT JOIN payments.order_replica r ON r.order_id = o.id
        WHERE r.version IS DISTINCT FROM o.version
       UNION ALL
       SELECT t.id FROM tickets.tickets t LEFT JOIN storefront.listings l ON l.id = t.id
        WHERE l.version IS DISTINCT FROM t.version
       UNION ALL
       SELECT o.id FROM orders.orders o LEFT JOIN storefront.orders s ON s.id = o.id
        WHERE s.version IS DISTINCT FROM o.version`,
        ),
      (rows) => rows.length === 0,
    );
    expect(stale).toEqual([]);
    // Applied once where a repeat would show: each completed order has exactly one recorded capture.
    const doubled = await sql(
      world.platform,
      `SELECT o.id FROM orders.orders o
        WHERE o.status = 'COMPLETED'
          AND (SELECT count(*) FROM orders.order_payments p WHERE p.order_id = o.id AND p.outcome = 'SUCCEEDED') <> 1`,
    );
    expect(doubled).toEqual([]);
  });
});

/** Orders a fresh ticket and pays it once with `token`, never retrying; returns the order id. */
async function purchaseUpTo(
  one: Client,
  two: Client,
  seller: TestUser,
  buyer: TestUser,
  token: string,
): Promise<string> {
  const ticket = await one.listTicket(seller, `Abandoned ${token}`);
  const created = await two.createOrder(ticket, buyer);
  const order = created.body.data?.createOrder as { id: string } | undefined;
  if (!order) throw new Error(`createOrder failed: ${JSON.stringify(created.body)}`);
  const reply = await two.pay(order.id, token, `once-${order.id}`, buyer);
  expect(reply.body.errors?.[0]?.extensions?.code).toBe("SERVICE_UNAVAILABLE");
  return order.id;
}
