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

/** The range `freePort` and `freePortPair` draw from: below every ephemeral range (`freePortPair` says which). */
const FIRST = 20_000;
const COUNT = 12_700;

/**
 * A port free at 127.0.0.1, drawn at random from 20000–32699 and checked with `portFree`, for a
 * process of our own to listen on. Not `listen(0)`: the OS hands that out from the ephemeral range,
 * where the port may go to an outgoing connection before our process binds it (a fresh-clone run
 * failed many-instances.test.ts with EADDRINUSE that way, on 34987).
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = FIRST + Math.floor(Math.random() * COUNT);
    if (await portFree(port)) return port;
  }
}

/**
 * A port p with p and p + 1 both free (a private Kafka broker's client and controller listeners),
 * drawn at random from 20000–32699 and checked with `portFree`. Below the ephemeral ranges (Linux
 * `net.ipv4.ip_local_port_range` defaults to 32768–60999; IANA's dynamic range is 49152–65535,
 * RFC 6335 §6): a port checked free there could be handed to any outgoing connection, or to a
 * `listen(0)`, before the broker binds it — a fresh-clone run failed lifecycle.test.ts that way
 * (port 44617 taken between the check and Kafka's start, test files running two at a time).
 */
export async function freePortPair(): Promise<number> {
  for (;;) {
    const port = FIRST + Math.floor(Math.random() * (COUNT - 1));
    if ((await portFree(port)) && (await portFree(port + 1))) return port;
  }
}
