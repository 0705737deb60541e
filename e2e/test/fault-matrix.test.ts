/**
 * The fault matrix (issue 15): each subgraph in turn is killed (SIGKILL) while a catalogue of
 * supergraph operations runs through the gateway; then the Kafka broker is stopped; then one subgraph
 * is frozen (SIGSTOP). Each operation is classified full / partial / refused, the rules are asserted,
 * and the outcome table is checked against docs/fault-matrix.md (the README links it), so the
 * document stays true without a test run rewriting a tracked file. `FAULT_MATRIX_WRITE=1` writes
 * the document instead: the table and this run's measured times (which vary from run to run).
 *
 * Kafka: this platform runs on its own broker (started here through the infra API, like
 * packages/events/test/outage.test.ts), which is stopped and started again. A TCP proxy in front of the
 * shared broker would not cut anything: Kafka clients bootstrap through the given address, then
 * connect to the address the broker advertises in its metadata, i.e. straight past the proxy.
 */
import { randomUUID } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { exportSigningKey, generateSigningKey } from "@boxoffice/auth-verify";
import { SUBGRAPH_NAMES } from "@boxoffice/topology";
import { afterAll, describe, expect, it } from "vitest";
import { eventually, sql, type TestUser, usePlatform } from "./support/client.ts";

const SUBGRAPHS = SUBGRAPH_NAMES;
type Subgraph = (typeof SUBGRAPHS)[number];
/**
 * The gateway's per-subgraph timeout in this platform, ms: shorter than the default 10 s so a frozen
 * subgraph shows fast, but above the slowest legitimate operation of the catalogue and fixtures —
 * `signUp` hashes a password with argon2id (memory-hard by design, OWASP Password Storage Cheat
 * Sheet), which took over 1.5 s on this 2-core machine while other suites ran, and the gateway then
 * cut it off as if accounts were frozen (the earlier 1 500 ms failed the baseline that way).
 */
const SUBGRAPH_TIMEOUT_MS = 5000;
const FROZEN: Subgraph = "payments";
/**
 * Issue 15's outcome bound: a killed subgraph answers again within 10 s of its restart beginning. It
 * listens before its consumers have joined their groups (service-kit's startSubgraph), which after a
 * SIGKILL takes up to the consumers' session timeout (10 s).
 */
const RESTART_BOUND_MS = 10_000;
const MATRIX_FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../docs/fault-matrix.md");

type Outcome = "full" | "partial" | "refused";

interface Fixtures {
  seller: TestUser;
  buyer: TestUser;
  /** An AVAILABLE ticket (createOrder's target). */
  freeTicket: string;
  /** A PENDING order of the buyer (payForOrder's target). */
  pendingOrder: string;
  /** A paid order and its payment. */
  paidOrder: string;
  payment: string;
}

interface Operation {
  name: string;
  /** Subgraphs whose own data the operation needs (from the query plan). */
  needs: Subgraph[];
  run: (f: Fixtures) => { query: string; variables?: Record<string, unknown>; as?: TestUser };
}

const CATALOGUE: Operation[] = [
  { name: "me", needs: ["accounts"], run: (f) => ({ query: "{ me { id } }", as: f.buyer }) },
  {
    name: "tickets",
    needs: ["tickets"],
    run: (f) => ({ query: "{ tickets(first: 5) { id title priceMinor } }", as: f.buyer }),
  },
  {
    name: "tickets + seller e-mail",
    needs: ["tickets", "accounts"],
    run: (f) => ({ query: "{ tickets(first: 5) { id seller { email } } }", as: f.seller }),
  },
  {
    name: "ticket + availability",
    needs: ["tickets", "storefront"],
    run: (f) => ({
      query: "query ($id: ID!) { ticket(id: $id) { id status availability } }",
      variables: { id: f.freeTicket },
    }),
  },
  {
    name: "listings",
    needs: ["storefront"],
    run: () => ({ query: "{ listings(first: 5) { edges { node { id title } } } }" }),
  },
  {
    name: "order",
    needs: ["orders"],
    run: (f) => ({
      query: "query ($id: ID!) { order(id: $id) { id status } }",
      variables: { id: f.paidOrder },
      as: f.buyer,
    }),
  },
  {
    name: "payment",
    needs: ["payments"],
    run: (f) => ({
      query: "query ($id: ID!) { payment(id: $id) { id status } }",
      variables: { id: f.payment },
      as: f.buyer,
    }),
  },
  {
    name: "me + purchase history",
    needs: ["accounts", "storefront"],
    run: (f) => ({ query: "{ me { id orders { orderId status } } }", as: f.buyer }),
  },
  {
    name: "createTicket",
    needs: ["tickets"],
    run: (f) => ({
      query: `mutation { createTicket(input: { title: "Matrix ${randomUUID().slice(0, 8)}", priceMinor: 1000, currency: "EUR" }) { id } }`,
      as: f.seller,
    }),
  },
  {
    name: "createOrder",
    needs: ["orders"],
    run: (f) => ({
      query: "mutation ($t: ID!) { createOrder(ticketId: $t) { id } }",
      variables: { t: f.freeTicket },
      as: f.buyer,
    }),
  },
  {
    name: "payForOrder",
    needs: ["payments"],
    run: (f) => ({
      query:
        'mutation ($o: ID!, $k: String!) { payForOrder(orderId: $o, paymentToken: "tok_success", idempotencyKey: $k) { id status } }',
      variables: { o: f.pendingOrder, k: randomUUID() },
      as: f.buyer,
    }),
  },
];

const LEAKS = /ECONNREFUSED|ECONNRESET|127\.0\.0\.1|localhost|stacktrace|\.ts:\d+|fetch failed/i;

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

const signingKey = JSON.stringify(await exportSigningKey(await generateSigningKey({ extractable: true })));
// Its own broker, which the Kafka row stops and starts again (see the header).
const world = usePlatform({
  ownBroker: true,
  // A fixed key: accounts restarted by the matrix keeps its sessions (a generated one would not).
  processEnv: {
    accounts: { AUTH_SIGNING_KEY: signingKey },
    gateway: { GATEWAY_SUBGRAPH_TIMEOUT_MS: String(SUBGRAPH_TIMEOUT_MS) },
  },
});
/** fault → operation → cell text. */
const table = new Map<string, Map<string, string>>();
const notes: string[] = [];

afterAll(async () => {
  // Before usePlatform's own afterAll (hooks run in reverse order): a frozen process cannot stop.
  await world.platform.signalService(FROZEN, "SIGCONT").catch(() => undefined);
});

/** Fresh targets for one round (everything up): a free ticket, a pending order, a paid order. */
async function fixtures(): Promise<Fixtures> {
  const seller = await world.client.newUser("seller");
  const buyer = await world.client.newUser("buyer");
  const freeTicket = await world.client.listTicket(seller, "Matrix free");
  const pendingTicket = await world.client.listTicket(seller, "Matrix pending");
  const paidTicket = await world.client.listTicket(seller, "Matrix paid");
  const orderOf = async (ticketId: string) => {
    const { body } = await world.client.createOrder(ticketId, buyer);
    return (body.data?.createOrder as { id: string }).id;
  };
  const pendingOrder = await orderOf(pendingTicket);
  const paidOrder = await orderOf(paidTicket);
  // payForOrder retried while the payments replica has not seen the order yet (it may answer CONFLICT then).
  const key = randomUUID();
  const { body } = await eventually(
    () => world.client.pay(paidOrder, "tok_success", key, buyer),
    (r) => r.body.data?.payForOrder != null,
  );
  const payment = (body.data?.payForOrder as { id: string } | null)?.id;
  if (!payment) throw new Error(`payForOrder failed: ${JSON.stringify(body)}`);
  await eventually(
    () => world.client.orderStatus(paidOrder, buyer),
    (s) => s === "COMPLETED",
  );
  // The storefront and orders replicas have seen the fixtures before the fault starts.
  await eventually(
    () => world.client.gql("query ($id: ID!) { ticket(id: $id) { availability } }", { id: freeTicket }),
    (r) =>
      r.body.data?.ticket !== null &&
      (r.body.data?.ticket as { availability: unknown }).availability !== null,
  );
  return { seller, buyer, freeTicket, pendingOrder, paidOrder, payment };
}

interface Observation {
  op: Operation;
  outcome: Outcome;
  status: number;
  codes: string[];
  ms: number;
  text: string;
}

async function runCatalogue(f: Fixtures, ops: Operation[] = CATALOGUE): Promise<Observation[]> {
  const observations: Observation[] = [];
  for (const op of ops) {
    const { query, variables, as } = op.run(f);
    const started = performance.now();
    const { res, body } = await world.client.gql(query, variables ?? {}, as?.cookie);
    const ms = performance.now() - started;
    const errors = body.errors ?? [];
    const data = body.data;
    const outcome: Outcome =
      errors.length === 0
        ? "full"
        : !data || Object.values(data).every((v) => v === null)
          ? "refused"
          : "partial";
    const codes = [...new Set(errors.map((e) => String(e.extensions?.code)))];
    observations.push({ op, outcome, status: res.status, codes, ms, text: JSON.stringify(body) });
  }
  return observations;
}

/** The rules every fault must respect; records the row of the table. */
function check(fault: string, down: Subgraph | undefined, observations: Observation[]): void {
  const column = new Map<string, string>();
  for (const o of observations) {
    const label = `${o.op.name}: ${o.outcome} (${o.status}, ${o.codes.join(",") || "no error"}) ${o.text}`;
    expect(o.status, label).toBeLessThan(500);
    expect(o.text, label).not.toMatch(LEAKS);
    if (down === undefined || !o.op.needs.includes(down)) {
      expect(o.outcome, label).toBe("full");
    } else {
      expect(o.outcome, label).not.toBe("full");
      expect(o.codes, label).toEqual(["SERVICE_UNAVAILABLE"]);
    }
    column.set(o.op.name, o.outcome === "full" ? "works" : o.outcome === "partial" ? "degrades" : "refused");
  }
  table.set(fault, column);
}

/** Ids in a table of the platform's database (`table` or `table(idColumn)`). */
async function ids(spec: string): Promise<string[]> {
  const [, table, column = "id"] = /^([\w.]+)(?:\((\w+)\))?$/.exec(spec) ?? [];
  const rows = await sql<{ id: string }>(
    world.platform,
    `SELECT ${column}::text AS id FROM ${table} ORDER BY 1`,
  );
  return rows.map((r) => r.id);
}

/** Every replica holds exactly its source's rows: nothing lost, nothing doubled. */
async function expectReplicasCaughtUp(): Promise<void> {
  const pairs: Array<[string, string]> = [
    ["tickets.tickets", "orders.ticket_replica"],
    ["tickets.tickets", "storefront.listings"],
    ["orders.orders", "payments.order_replica(order_id)"],
    ["orders.orders", "storefront.orders"],
    ["accounts.users", "storefront.users"],
  ];
  for (const [source, replica] of pairs) {
    const expected = await ids(source);
    const seen = await eventually(
      () => ids(replica),
      (got) => JSON.stringify(got) === JSON.stringify(expected),
      60_000,
    );
    expect(seen, `${replica} follows ${source}`).toEqual(expected);
  }
}

// Each case restarts a subgraph or the broker: tens of seconds on a loaded two-core machine.
describe("fault matrix through the gateway", { timeout: 180_000 }, () => {
  it("baseline: every operation answers fully with everything up", async () => {
    check("nothing", undefined, await runCatalogue(await fixtures()));
  });

  for (const name of SUBGRAPHS) {
    it(`${name} killed: what does not need it answers fully; after a restart it serves and its replicas catch up`, async () => {
      const f = await fixtures();
      await world.platform.signalService(name, "SIGKILL");
      check(`${name} down`, name, await runCatalogue(f));
      // Written while it is down: its replicas must catch up after the restart.
      if (name !== "tickets") await world.client.listTicket(f.seller, "Listed while a subgraph was down");
      const started = performance.now();
      const restarting = world.platform.startService(name);
      const probe = CATALOGUE.find((op) => op.needs.length === 1 && op.needs[0] === name)!;
      const served = await eventually(
        async () => (await runCatalogue(f, [probe]))[0]!,
        (o) => o.outcome === "full",
        RESTART_BOUND_MS,
      );
      const servedAfter = (performance.now() - started) / 1000;
      expect(served.outcome, `${name} answers ${probe.name} within 10 s of its restart`).toBe("full");
      await restarting;
      // Its consumers join in the background (/readyz lists them as degraded until then).
      const readyz = world.platform.subgraphUrl(name).replace(/\/graphql$/, "/readyz");
      await eventually(
        async () => ((await (await fetch(readyz)).json()) as { degraded: string[] }).degraded,
        (degraded) => degraded.length === 0,
        60_000,
      );
      const joinedAfter = (performance.now() - started) / 1000;
      await expectReplicasCaughtUp();
      notes.push(
        `${name}: serves again ${servedAfter.toFixed(1)} s after its restart began; its consumers had joined their groups after ${joinedAfter.toFixed(1)} s; its replicas caught up after ${((performance.now() - started) / 1000).toFixed(1)} s`,
      );
    });
  }

  it("Kafka stopped: queries answer, mutations are accepted into outboxes and delivered after it returns", async () => {
    const f = await fixtures();
    await world.broker.stop();
    try {
      const observations = await runCatalogue(f);
      check("Kafka down", undefined, observations);
    } finally {
      await world.broker.start();
    }
    await expectReplicasCaughtUp();
  });

  it(`${FROZEN} frozen (SIGSTOP): the rest keep their latency; its fields fail typed within the subgraph timeout`, async () => {
    const f = await fixtures();
    const others = CATALOGUE.filter((op) => !op.needs.includes(FROZEN) && !op.name.startsWith("create"));
    const sample = async () => {
      const rounds: Observation[][] = [];
      for (let i = 0; i < 5; i += 1) rounds.push(await runCatalogue(f, others));
      return median(rounds.flat().map((o) => o.ms));
    };
    const before = await sample();
    await world.platform.signalService(FROZEN, "SIGSTOP");
    try {
      const during = await sample();
      const observations = await runCatalogue(f);
      check(`${FROZEN} frozen`, FROZEN, observations);
      const slowest = Math.max(...observations.filter((o) => o.op.needs.includes(FROZEN)).map((o) => o.ms));
      notes.push(
        `${FROZEN} frozen: median latency of the other operations ${before.toFixed(0)} ms before, ${during.toFixed(0)} ms during; operations needing it answered SERVICE_UNAVAILABLE after at most ${slowest.toFixed(0)} ms (gateway subgraph timeout ${SUBGRAPH_TIMEOUT_MS} ms)`,
      );
      console.log(notes.at(-1));
    } finally {
      await world.platform.signalService(FROZEN, "SIGCONT");
    }
  });

  it("docs/fault-matrix.md shows this run's table", async () => {
    const faults = [...table.keys()];
    const lines = [
      "# Fault matrix",
      "",
      "Produced by `e2e/test/fault-matrix.test.ts` from the run that last wrote it, with `FAULT_MATRIX_WRITE=1` (do not edit by hand): each column is",
      "one fault, each row an operation sent through the gateway. **works** = full answer; **degrades** =",
      "data with a typed `SERVICE_UNAVAILABLE` error on the missing subgraph's fields; **refused** = no",
      "data, typed `SERVICE_UNAVAILABLE` (retry later). Never a 5xx, never internals in the answer.",
      "",
      `| operation (needs) | ${faults.map((fault) => `${fault}`).join(" | ")} |`,
      `| --- | ${faults.map(() => "---").join(" | ")} |`,
      ...CATALOGUE.map(
        (op) =>
          `| ${op.name} (${op.needs.join(", ")}) | ${faults.map((fault) => table.get(fault)?.get(op.name) ?? "—").join(" | ")} |`,
      ),
      "",
      "Measured in the same run:",
      "",
      ...notes.map((note) => `- ${note}`),
      "",
    ];
    expect(faults.length).toBe(SUBGRAPHS.length + 3);
    if (process.env.FAULT_MATRIX_WRITE === "1") {
      await writeFile(MATRIX_FILE, lines.join("\n"));
      return;
    }
    // Everything above the measured times, which differ in every run.
    const tableOf = (text: string) => text.split("\nMeasured in the same run:")[0];
    expect(
      tableOf(await readFile(MATRIX_FILE, "utf8")),
      "docs/fault-matrix.md differs from this run's outcomes: if the change is intended, rewrite it with FAULT_MATRIX_WRITE=1",
    ).toBe(tableOf(lines.join("\n")));
  });
});
