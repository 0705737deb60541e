// A real HTTP server on the loopback interface that serves a JSON document and counts requests.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface CountingServer {
  /** URL of the served document, on 127.0.0.1. */
  readonly url: string;
  /** Requests received so far. */
  requests(): number;
  /** Replaces the served body. */
  setBody(body: unknown): void;
  /** Answers every following request with this HTTP status (200 serves the body). */
  setStatus(status: number): void;
  close(): Promise<void>;
}

export async function startCountingServer(
  body: unknown,
  path = "/.well-known/jwks.json",
): Promise<CountingServer> {
  let current = JSON.stringify(body);
  let status = 200;
  let count = 0;
  const server: Server = createServer((_req, res) => {
    count += 1;
    res.writeHead(status, { "content-type": "application/json", connection: "close" });
    res.end(status === 200 ? current : "{}");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${path}`,
    requests: () => count,
    setBody: (next) => {
      current = JSON.stringify(next);
    },
    setStatus: (next) => {
      status = next;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
