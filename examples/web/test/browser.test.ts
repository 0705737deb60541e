/**
 * The web client in a real browser (Debian's Chromium via playwright-core) against a whole
 * platform: the purchase journey by clicks, the typed error states, the http-only session cookie
 * as Chromium treats it (hidden from scripts, refused to a foreign origin, cleared on sign-out and
 * refused by every subgraph afterwards), keyboard use and a phone-sized viewport.
 * Screenshots of every page go to examples/web/test-artifacts/ (git-ignored).
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { DEV_SESSION_COOKIE_NAME } from "@boxoffice/auth-verify";
import pg from "pg";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium, screenshot } from "./support/browser.ts";
import { startWebPlatform, type WebPlatform } from "./support/web-platform.ts";

const PASSWORD = "correct horse battery staple";

/** expect.poll with patience for a busy machine (argon2id sign-ups, events through Kafka). */
function poll<T>(read: () => Promise<T>, timeout = 20_000) {
  return expect.poll(read, { timeout, interval: 200 });
}

/** The page's header and any alerts, so a failed wait shows what the user saw. */
async function seen(page: Page): Promise<string> {
  const alerts = await page.getByRole("alert").allInnerTexts();
  return `${await page.locator("header").innerText()}${alerts.length ? ` | alerts: ${alerts.join("; ")}` : ""}`;
}

/** A link of the main navigation. */
function navLink(page: Page, name: string) {
  return page.getByRole("navigation", { name: "Main" }).getByRole("link", { name });
}

let wp: WebPlatform;
let browser: Browser;

beforeAll(async () => {
  [wp, browser] = await Promise.all([startWebPlatform(), launchChromium()]);
});
afterAll(async () => {
  await browser?.close();
  await wp?.stop();
});

/** A word no other title has (letters only: full-text search keeps it as one lexeme). */
function uniqueWord(prefix: string): string {
  const letters = "abcdefghijklmnopqrstuvwxyz";
  let word = prefix;
  for (let i = 0; i < 8; i += 1) word += letters[Math.floor(Math.random() * letters.length)];
  return word;
}

function email(label: string): string {
  return `${label}.${Date.now()}.${Math.random().toString(36).slice(2, 8)}@example.test`;
}

async function open(context: BrowserContext, route = "/"): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${wp.web.url}#${route}`);
  return page;
}

async function signUp(page: Page, address: string): Promise<void> {
  await page.goto(`${wp.web.url}#/signup`);
  await page.getByLabel("E-mail").fill(address);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign up" }).click();
  await poll(() => seen(page)).toContain(`Signed in as ${address}`);
}

async function sessionCookie(context: BrowserContext) {
  return (await context.cookies()).find((c) => c.name === DEV_SESSION_COOKIE_NAME);
}

/** Lists a ticket through the Sell page. */
async function list(page: Page, title: string, price: string, currency = "EUR"): Promise<void> {
  await navLink(page, "Sell a ticket").click();
  await page.getByLabel("What is the ticket for?").fill(title);
  await page.getByLabel("Price").fill(price);
  await page.getByLabel("Currency").fill(currency);
  await page.getByRole("button", { name: "List ticket" }).click();
  await poll(() => page.getByRole("status").first().innerText()).toContain(`Listed “${title}”`);
}

/** Searches until the listing shows up (the storefront learns of it from Kafka a moment later). */
async function search(page: Page, text: string, expected: string): Promise<void> {
  await navLink(page, "Listings").click();
  await page.getByLabel("Search titles").fill(text);
  await poll(async () => {
    await page.getByRole("button", { name: "Search" }).click();
    await page.waitForTimeout(300);
    return page.getByRole("heading", { name: expected }).count();
  }, 20_000).toBe(1);
}

/**
 * The GraphQL answers a page received, in the order they arrived, by operation name, so a test can
 * say which answer was the first after a write. Each is recorded when its response arrives (its body
 * is read later: reading it is asynchronous).
 */
function graphqlLog(page: Page) {
  const entries: { operation: string; body: Promise<string> }[] = [];
  page.on("response", (response) => {
    const request = response.request();
    if (request.method() !== "POST") return;
    const operation = (request.postDataJSON() as { operationName?: string } | null)?.operationName;
    if (!operation) return;
    entries.push({ operation, body: response.text().catch(() => "") });
  });
  return {
    /** Bodies of the answers to `operation`, in arrival order. */
    answers: (operation: string) =>
      Promise.all(entries.filter((e) => e.operation === operation).map((e) => e.body)),
    /** Bodies of the answers to `operation` that arrived after the first answer to `write`. */
    answersAfter: (write: string, operation: string) => {
      const at = entries.findIndex((e) => e.operation === write);
      return Promise.all(
        entries
          .slice(at + 1)
          .filter((e) => e.operation === operation)
          .map((e) => e.body),
      );
    },
  };
}

describe("the web client in Chromium", () => {
  it("purchase journey by clicks: seller lists, buyer searches, reserves, pays; COMPLETED; the seller sees the sale", async () => {
    const word = uniqueWord("gig");
    const title = `Radiohead ${word} standing`;
    const seller = await browser.newContext({ viewport: { width: 1100, height: 800 } });
    const buyer = await browser.newContext({ viewport: { width: 1100, height: 800 } });
    try {
      const sp = await open(seller, "/signup");
      await screenshot(sp, "sign-up");
      const sellerEmail = email("seller");
      await signUp(sp, sellerEmail);
      // Typed BAD_USER_INPUT next to its field: an empty title is refused by the tickets subgraph.
      await navLink(sp, "Sell a ticket").click();
      await sp.getByLabel("Price").fill("45");
      await sp.getByRole("button", { name: "List ticket" }).click();
      const titleField = sp.getByLabel("What is the ticket for?");
      await poll(() => titleField.getAttribute("aria-invalid")).toBe("true");
      expect(await sp.locator("#title-error").innerText()).toMatch(/BAD_USER_INPUT/);
      await screenshot(sp, "sell-bad-input");
      await list(sp, title, "45.50");
      // A second page of listings: five more of this seller's.
      for (let i = 1; i <= 5; i += 1) await list(sp, `Paging ${word} number ${i}`, `${10 + i}`);
      await screenshot(sp, "sell");

      const bp = await open(buyer, "/");
      const buyerEmail = email("buyer");
      await signUp(bp, buyerEmail);
      // Paging through the search results: 6 matches of `word`, 5 per page, newest first — so the
      // first ticket listed is alone on page 2.
      await search(bp, word, `Paging ${word} number 5`);
      await poll(async () => {
        await bp.getByRole("button", { name: "Search" }).click();
        await bp.waitForTimeout(300);
        return bp.getByRole("button", { name: "Next page" }).isEnabled();
      }).toBe(true);
      expect(await bp.getByRole("listitem").filter({ hasText: word }).count()).toBe(5);
      await screenshot(bp, "listings");
      await bp.getByRole("button", { name: "Next page" }).click();
      await poll(() => bp.getByText("Page 2").count()).toBe(1);
      await poll(() => bp.getByRole("listitem").filter({ hasText: word }).count()).toBe(1);
      expect(await bp.getByRole("heading", { name: title }).count()).toBe(1);
      expect(await bp.getByRole("button", { name: "Next page" }).isEnabled()).toBe(false);
      await bp.getByRole("button", { name: "Previous page" }).click();
      await poll(() => bp.getByRole("listitem").filter({ hasText: word }).count()).toBe(5);
      await bp.getByRole("button", { name: "Next page" }).click();
      await poll(() => bp.getByRole("heading", { name: title }).count()).toBe(1);
      await bp.getByRole("button", { name: `Reserve ${title}` }).click();
      await poll(() => bp.getByRole("heading", { name: `Order: ${title}` }).count()).toBe(1);
      await poll(() => bp.locator(".facts [role=status]").innerText()).toBe("PENDING");
      await screenshot(bp, "order-pending");
      // A declined card: FAILED with its reason, the order stays open.
      await bp.getByLabel(/tok_decline/).check();
      await bp.getByRole("button", { name: /^Pay / }).click();
      await poll(() => bp.locator(".pay [role=status]").innerText()).toMatch(/Payment FAILED: card_declined/);
      // A provider briefly down: typed SERVICE_UNAVAILABLE with a Retry button that reuses the key.
      await bp.getByLabel(/tok_transient/).check();
      await bp.getByRole("button", { name: /^Pay / }).click();
      await poll(() => bp.getByRole("alert").innerText()).toMatch(/SERVICE_UNAVAILABLE/);
      await screenshot(bp, "order-service-unavailable");
      await bp.getByRole("button", { name: "Retry" }).click();
      // The order is read again with the payment's consistency token: COMPLETED once its events arrived.
      await poll(() => bp.locator(".facts [role=status]").innerText(), 20_000).toBe("COMPLETED");
      await screenshot(bp, "order-completed");

      await navLink(bp, "My orders").click();
      const mine = bp.getByRole("listitem").filter({ hasText: title });
      await poll(() => mine.innerText(), 20_000).toMatch(/COMPLETED/);
      expect(await mine.innerText()).toContain("€45.50");
      await screenshot(bp, "my-orders");

      await navLink(sp, "My sales").click();
      await poll(async () => {
        await sp.getByRole("button", { name: "Refresh" }).click();
        await sp.waitForTimeout(300);
        return sp.getByRole("listitem").filter({ hasText: title }).count();
      }, 20_000).toBe(1);
      expect(await sp.locator(".revenue").innerText()).toContain("€45.50");
      await screenshot(sp, "my-sales");

      // Neither page's scripts ever saw a session cookie, though each browser holds one.
      for (const [context, page] of [
        [seller, sp],
        [buyer, bp],
      ] as const) {
        expect(String(await page.evaluate("document.cookie"))).not.toContain(DEV_SESSION_COOKIE_NAME);
        expect(await sessionCookie(context)).toMatchObject({ httpOnly: true, sameSite: "Lax" });
      }
    } finally {
      await seller.close();
      await buyer.close();
    }
  });

  it("read-your-writes: the buyer pays the moment the order exists and the first read of the order and of My orders shows it COMPLETED", async () => {
    const word = uniqueWord("ryw");
    const title = `Portishead ${word}`;
    const seller = await browser.newContext();
    const buyer = await browser.newContext();
    try {
      const sp = await open(seller);
      await signUp(sp, email("seller"));
      await list(sp, title, "38");
      // The seller's own listing: the Listings page reads with the listing's token, so the first
      // search already finds it (one Listings answer, no polling).
      const sellerLog = graphqlLog(sp);
      await navLink(sp, "Listings").click();
      await sp.getByLabel("Search titles").fill(word);
      await sp.getByRole("button", { name: "Search" }).click();
      await poll(() => sp.getByRole("heading", { name: title }).count()).toBe(1);
      expect((await sellerLog.answers("Listings")).some((b) => b.includes(title))).toBe(true);

      const bp = await open(buyer);
      await signUp(bp, email("buyer"));
      await search(bp, word, title); // another user's write: no token of it here, so search until it shows
      const log = graphqlLog(bp);
      await bp.getByRole("button", { name: `Reserve ${title}` }).click();
      await poll(() => bp.getByRole("heading", { name: `Order: ${title}` }).count()).toBe(1);
      // Pay at once (the default card pays): payments waits for the order it has not seen yet.
      await bp.getByRole("button", { name: /^Pay / }).click();
      await poll(() => bp.locator(".facts [role=status]").innerText()).toBe("COMPLETED");
      const payments = await log.answers("PayForOrder");
      expect(payments).toHaveLength(1);
      expect(payments[0]).toContain('"status":"SUCCEEDED"');
      // The order read with the payment's token: its first answer after paying is already COMPLETED.
      const afterPayment = await log.answersAfter("PayForOrder", "Order");
      expect(afterPayment.length, JSON.stringify(await log.answers("Order"))).toBeGreaterThan(0);
      expect(afterPayment[0]).toContain('"status":"COMPLETED"');

      await navLink(bp, "My orders").click();
      const mine = bp.getByRole("listitem").filter({ hasText: title });
      await poll(() => mine.innerText()).toMatch(/COMPLETED/);
      // History on the first read: exactly one My orders answer, and it already says COMPLETED.
      const history = await log.answers("MyOrders");
      expect(history).toHaveLength(1);
      expect(history[0]).toMatch(new RegExp(`"status":"COMPLETED"[^}]*"placedAt"`));
      expect(await bp.getByRole("alert").count()).toBe(0);
    } finally {
      await seller.close();
      await buyer.close();
    }
  });

  it("CONFLICT: a second buyer reserving a ticket that was just reserved sees the typed reason", async () => {
    const word = uniqueWord("race");
    const title = `Kraftwerk ${word}`;
    const contexts = await Promise.all([browser.newContext(), browser.newContext(), browser.newContext()]);
    try {
      const [sp, first, second] = await Promise.all(contexts.map((c) => open(c)));
      await signUp(sp!, email("seller"));
      await list(sp!, title, "30");
      await signUp(first!, email("first"));
      await signUp(second!, email("second"));
      await search(first!, word, title);
      await search(second!, word, title);
      await first!.getByRole("button", { name: `Reserve ${title}` }).click();
      await poll(() => first!.getByRole("heading", { name: `Order: ${title}` }).count()).toBe(1);
      // The second buyer's page still shows it AVAILABLE; the orders subgraph refuses.
      await second!.getByRole("button", { name: `Reserve ${title}` }).click();
      await poll(() => second!.getByRole("alert").innerText()).toMatch(/CONFLICT.*TICKET_RESERVED/s);
      await screenshot(second!, "listings-conflict");
    } finally {
      await Promise.all(contexts.map((c) => c.close()));
    }
  });

  it("a page on a foreign origin can neither read the user's data nor write with the user's cookie", async () => {
    const context = await browser.newContext();
    // The attacker's page: same machine, another site (127.0.0.2 is not `localhost`).
    const attacker = http.createServer((_req, res) => {
      res.setHeader("content-type", "text/html");
      res.end(ATTACKER_PAGE);
    });
    await new Promise<void>((resolve) => attacker.listen(0, "127.0.0.2", () => resolve()));
    const attackerUrl = `http://127.0.0.2:${(attacker.address() as AddressInfo).port}/`;
    const db = new pg.Client({ connectionString: wp.platform.databaseUrl });
    await db.connect();
    try {
      const page = await open(context, "/");
      const victim = email("victim");
      await signUp(page, victim);
      const marker = uniqueWord("forged");
      const gateway = wp.browserGatewayUrl;

      // The attacker's own script runs on its own origin with the victim's browser: it tries to read
      // with credentials, then to write without a preflight (a "simple" no-cors POST, then a form POST).
      await page.goto(`${attackerUrl}?gateway=${encodeURIComponent(gateway)}&marker=${marker}`);
      await poll(() => page.locator("#read").innerText()).toMatch(/^refused: TypeError/);
      expect(await page.locator("#read").innerText()).not.toContain(victim);
      await page.getByRole("button", { name: "Forge" }).click();
      await page.waitForURL(gateway, { waitUntil: "load" });
      await screenshot(page, "foreign-origin-form-post");
      // Nothing was written: no ticket with the marker title exists in the tickets subgraph's table.
      const { rows } = await db.query<{ n: string }>(
        "SELECT count(*) AS n FROM tickets.tickets WHERE title = $1",
        [marker],
      );
      expect(Number(rows[0]!.n)).toBe(0);
      // While the app's own origin, with the same cookie, can write (the session was usable).
      const app = await open(context, "/");
      await poll(() => app.locator("header").innerText()).toContain(`Signed in as ${victim}`);
      await list(app, marker, "1");
      const after = await db.query<{ n: string }>(
        "SELECT count(*) AS n FROM tickets.tickets WHERE title = $1",
        [marker],
      );
      expect(Number(after.rows[0]!.n)).toBe(1);
    } finally {
      await db.end();
      await new Promise((resolve) => attacker.close(resolve));
      await context.close();
    }
  });

  it("sign-out clears the session in the browser, and every subgraph refuses the old token", async () => {
    const context = await browser.newContext();
    try {
      const page = await open(context, "/");
      const address = email("leaver");
      await signUp(page, address);
      const cookie = await sessionCookie(context);
      expect(cookie).toBeDefined();
      // Subgraphs answer only the gateway (sealed): the probes carry its shared secret, as it would.
      const header = {
        cookie: `${cookie!.name}=${cookie!.value}`,
        "x-boxoffice-gateway-secret": wp.platform.serviceEnv("accounts").GATEWAY_SHARED_SECRET ?? "",
      };
      const me = await fetch(wp.platform.subgraphUrl("accounts"), {
        method: "POST",
        headers: { "content-type": "application/json", ...header },
        body: JSON.stringify({ query: "{ me { id } }" }),
      });
      const userId = dig(((await me.json()) as Body).data, "me", "id");
      expect(typeof userId).toBe("string");

      // What each subgraph answers to this token, sent straight to it (not through the gateway).
      const probes: Record<
        string,
        {
          query: string;
          variables?: Record<string, unknown>;
          accepted: (b: Body) => boolean;
          refused: (b: Body) => boolean;
        }
      > = {
        accounts: {
          query: "{ me { id } }",
          accepted: (b) => dig(b.data, "me", "id") === userId,
          refused: (b) => dig(b.data, "me") === null,
        },
        tickets: {
          query: `mutation { createTicket(input: { title: "probe", priceMinor: 1, currency: "EUR" }) { id } }`,
          accepted: (b) => typeof dig(b.data, "createTicket", "id") === "string",
          refused: (b) => b.errors?.[0]?.extensions?.code === "UNAUTHENTICATED",
        },
        orders: {
          query: "{ myOrders { id } }",
          accepted: (b) => Array.isArray(dig(b.data, "myOrders")),
          refused: (b) => b.errors?.[0]?.extensions?.code === "UNAUTHENTICATED",
        },
        payments: {
          query: `{ payment(id: "00000000-0000-4000-8000-000000000000") { id } }`,
          accepted: (b) => dig(b.data, "payment") === null && !b.errors,
          refused: (b) => b.errors?.[0]?.extensions?.code === "UNAUTHENTICATED",
        },
        storefront: {
          query: `query ($r: [_Any!]!) { _entities(representations: $r) { ... on User { orders { orderId } } } }`,
          variables: { r: [{ __typename: "User", id: userId }] },
          accepted: (b) => Array.isArray(dig(b.data, "_entities", 0, "orders")),
          // Refused when the request context is built (UNAUTHENTICATED), or the user's orders hidden.
          refused: (b) =>
            b.errors?.[0]?.extensions?.code === "UNAUTHENTICATED" ||
            dig(b.data, "_entities", 0, "orders") === null,
        },
      };
      const ask = async (name: string) => {
        const probe = probes[name]!;
        const res = await fetch(wp.platform.subgraphUrl(name), {
          method: "POST",
          headers: { "content-type": "application/json", ...header },
          body: JSON.stringify({ query: probe.query, variables: probe.variables ?? {} }),
        });
        return (await res.json()) as Body;
      };
      for (const name of Object.keys(probes)) {
        const body = await ask(name);
        expect(probes[name]!.accepted(body), `${name} before sign-out: ${JSON.stringify(body)}`).toBe(true);
      }

      await page.getByRole("button", { name: "Sign out" }).click();
      await poll(() => page.locator("header").innerText()).toMatch(/Sign in/);
      expect(await sessionCookie(context)).toBeUndefined();
      await screenshot(page, "signed-out");

      // The session.revoked event reaches every verifying subgraph's denylist through Kafka.
      for (const name of Object.keys(probes)) {
        const deadline = Date.now() + 10_000;
        let last = await ask(name);
        while (!probes[name]!.refused(last) && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 200));
          last = await ask(name);
        }
        expect(probes[name]!.refused(last), `${name} after sign-out: ${JSON.stringify(last)}`).toBe(true);
      }
    } finally {
      await context.close();
    }
  });

  it("at 390×844, by keyboard only: sign in, every field labelled, nothing wider than the screen", async () => {
    const setup = await browser.newContext();
    const address = email("phone");
    await signUp(await open(setup, "/"), address);
    await setup.close();

    const context = await browser.newContext({
      viewport: { width: 390, height: 844 },
      isMobile: true,
      hasTouch: true,
    });
    try {
      const page = await open(context, "/signin");
      await poll(() => page.getByRole("heading", { name: "Sign in" }).count()).toBe(1);
      // Every input of the page has an accessible name from a <label>.
      const inputs = page.locator("input");
      const ids = await Promise.all(
        (await inputs.all()).map(async (input) => (await input.getAttribute("id")) ?? ""),
      );
      expect(ids.length).toBeGreaterThan(0);
      for (const id of ids) expect(await page.locator(`label[for="${id}"]`).count(), `input #${id}`).toBe(1);
      // Tab to the e-mail field, type, Tab to the password, Enter submits.
      for (let i = 0; i < 20 && (await focusedId(page)) !== "email"; i += 1) {
        await page.keyboard.press("Tab");
      }
      expect(await focusedId(page)).toBe("email");
      await page.keyboard.type(address);
      await page.keyboard.press("Tab");
      await page.keyboard.type("a wrong password here");
      await page.keyboard.press("Enter");
      await poll(() => page.getByRole("alert").innerText()).toMatch(/UNAUTHENTICATED/);
      await screenshot(page, "sign-in-phone-error");
      await page.getByLabel("Password").fill("");
      await page.getByLabel("Password").focus();
      await page.keyboard.type(PASSWORD);
      await page.keyboard.press("Enter");
      await poll(() => page.locator("header").innerText()).toContain(address);

      for (const [route, name] of [
        ["/", "listings-phone"],
        ["/sell", "sell-phone"],
        ["/orders", "my-orders-phone"],
        ["/sales", "my-sales-phone"],
      ] as const) {
        await page.goto(`${wp.web.url}#${route}`);
        await page.waitForLoadState("networkidle");
        const width = Number(await page.evaluate("document.documentElement.scrollWidth"));
        expect(width, `${route} is ${width}px wide`).toBeLessThanOrEqual(390);
        await screenshot(page, name);
      }
      // Empty states say so in words.
      await page.goto(`${wp.web.url}#/orders`);
      await poll(() => page.getByText("You have no orders yet.").count()).toBe(1);
    } finally {
      await context.close();
    }
  });
});

/** Text of the focused element's id in `page`. */
async function focusedId(page: Page): Promise<string> {
  return String(await page.evaluate("document.activeElement && document.activeElement.id"));
}

/** A page on another site that tries to use the visitor's Boxoffice session (CSRF, data theft). */
const ATTACKER_PAGE = `<!doctype html><html lang="en"><title>Elsewhere</title>
<p id="read">…</p>
<form id="forge" method="POST"><input type="hidden" name="query" id="query"><button>Forge</button></form>
<script>
  const params = new URLSearchParams(location.search);
  const gateway = params.get("gateway");
  const query = 'mutation { createTicket(input: { title: "' + params.get("marker") + '", priceMinor: 100, currency: "EUR" }) { id } }';
  document.getElementById("forge").action = gateway;
  document.getElementById("query").value = query;
  (async () => {
    // No preflight needed: text/plain is a "simple" content type; the response is opaque.
    await fetch(gateway, { method: "POST", mode: "no-cors", credentials: "include",
      headers: { "content-type": "text/plain" }, body: JSON.stringify({ query }) }).catch(() => {});
    try {
      const res = await fetch(gateway, { method: "POST", credentials: "include",
        headers: { "content-type": "application/json" }, body: JSON.stringify({ query: "{ me { id email } }" }) });
      document.getElementById("read").textContent = "read: " + (await res.text());
    } catch (error) {
      document.getElementById("read").textContent = "refused: " + error;
    }
  })();
</script></html>`;

interface Body {
  data?: Record<string, unknown> | null;
  errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
}

/** `value[path[0]][path[1]]…`, or undefined where the path ends early. */
function dig(value: unknown, ...path: Array<string | number>): unknown {
  let v = value;
  for (const key of path) {
    v = v !== null && typeof v === "object" ? (v as Record<string | number, unknown>)[key] : undefined;
  }
  return v;
}
