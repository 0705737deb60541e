import net from "node:net";

/**
 * Whether nothing listens on `port` at 127.0.0.1 right now: binds it and closes again.
 * Racy by nature (another process may take the port a moment later); for tests and tools that start
 * a private engine on a port of their own.
 */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/**
 * A port p with p and p + 1 both free (a private Kafka broker's client and controller listeners),
 * drawn at random from 30000–49999 and checked with `portFree`.
 */
export async function freePortPair(): Promise<number> {
  for (;;) {
    const port = 30_000 + Math.floor(Math.random() * 20_000);
    if ((await portFree(port)) && (await portFree(port + 1))) return port;
  }
}
