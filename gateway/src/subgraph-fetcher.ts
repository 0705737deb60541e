import type { RemoteGraphQLDataSource } from "@apollo/gateway";
import { Agent, request } from "undici";

type Fetcher = NonNullable<ConstructorParameters<typeof RemoteGraphQLDataSource>[0]>["fetcher"] & {};
type FetcherResponse = Awaited<ReturnType<Fetcher>>;

export interface SubgraphFetcherOptions {
  /** Longest wait for one subgraph request, headers and body included, ms. */
  timeoutMs: number;
  /** Most open connections per subgraph origin (default 64); further requests queue for one. */
  connectionsPerSubgraph?: number;
  /**
   * Headers that do not change a subgraph's answer and are left out of the deduplication key
   * (the request id: a deduplicated fetch carries the first request's id). Lower case.
   */
  ignoredForDeduplication?: readonly string[];
}

export interface SubgraphFetcher {
  fetcher: Fetcher;
  /** Closes the kept-alive connections (after the gateway stopped sending). */
  close: () => Promise<void>;
}

/**
 * The answer of a subgraph, read in full: what @apollo/gateway's data source and our `Set-Cookie`
 * pass-through read of a fetch `Response` (status, `Headers` with `getSetCookie()`, `json()`,
 * `text()`), without a WHATWG stream per response.
 */
class SubgraphResponse implements FetcherResponse {
  readonly redirected = false;
  readonly bodyUsed = false;
  constructor(
    readonly url: string,
    readonly status: number,
    readonly headers: Headers,
    private readonly body: string,
  ) {}

  get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }

  get statusText(): string {
    return "";
  }

  text(): Promise<string> {
    return Promise.resolve(this.body);
  }

  json(): Promise<unknown> {
    return Promise.resolve().then(() => JSON.parse(this.body) as unknown);
  }

  arrayBuffer(): Promise<ArrayBuffer> {
    const bytes = new TextEncoder().encode(this.body);
    return Promise.resolve(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  }

  clone(): SubgraphResponse {
    return new SubgraphResponse(this.url, this.status, new Headers(this.headers), this.body);
  }
}

/**
 * The gateway's HTTP client to its subgraphs: undici's `request` over one keep-alive `Agent` (a
 * bounded pool of connections per subgraph, reused across requests), with a deadline per request.
 * Node's global `fetch` was most of the gateway's CPU time per request in the profile (WHATWG
 * Request/Response and web streams); this reads the same answers with a fraction of the work.
 *
 * Failures keep their network meaning: an unreachable subgraph rejects with the socket error
 * (`code` ECONNREFUSED, ENOTFOUND, …), a dropped connection with undici's `UND_ERR_SOCKET`, and a
 * request past `timeoutMs` with the `TimeoutError` "The operation was aborted due to timeout".
 */
export function createSubgraphFetcher(options: SubgraphFetcherOptions): SubgraphFetcher {
  const agent = new Agent({
    connections: options.connectionsPerSubgraph ?? 64,
    // Below Node's server default (5 s), so the gateway never reuses a connection the subgraph is
    // closing; a subgraph's `Keep-Alive: timeout=` hint still wins when shorter.
    keepAliveTimeout: 4_000,
  });
  const send = async (url: string, init?: Parameters<Fetcher>[1]): Promise<SubgraphResponse> => {
    const signal = AbortSignal.timeout(options.timeoutMs);
    const res = await request(url, {
      dispatcher: agent,
      method: (init?.method ?? "GET") as "GET",
      headers: init?.headers,
      body: init?.body ?? null,
      signal,
    });
    const text = await res.body.text();
    const headers = new Headers();
    for (const [name, value] of Object.entries(res.headers)) {
      if (Array.isArray(value)) for (const v of value) headers.append(name, v);
      else if (value !== undefined) headers.append(name, value);
    }
    return new SubgraphResponse(url, res.statusCode, headers, text);
  };
  // Identical subgraph queries in flight at the same moment (a popular page under load) are sent
  // once and their answer shared, as Hive Gateway does by default. Only queries: a mutation always
  // runs once per client request. The key holds every header sent (cookie and authorization
  // included), so only requests of the same caller share an answer and its Set-Cookie.
  const ignored = new Set(options.ignoredForDeduplication ?? []);
  const inFlight = new Map<string, Promise<SubgraphResponse>>();
  const fetcher = (url: string, init?: Parameters<Fetcher>[1]): Promise<SubgraphResponse> => {
    const body = init?.body;
    // @apollo/gateway serialises `{"query":"<operation>",…}`; subgraph queries start with `query` or `{`.
    if (typeof body !== "string" || !/^\{"query":"(query\b|\{)/.test(body)) return send(url, init);
    const headers = Object.entries(init?.headers ?? {})
      .filter(([name]) => !ignored.has(name.toLowerCase()))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const key = `${url}\n${JSON.stringify(headers)}\n${body}`;
    const pending = inFlight.get(key);
    if (pending) return pending;
    const started = send(url, init).finally(() => inFlight.delete(key));
    inFlight.set(key, started);
    return started;
  };
  return { fetcher: fetcher, close: () => agent.close() };
}
