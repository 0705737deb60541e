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
 * Ports this process has handed out. A caller usually draws several ports before anything binds
 * them (a platform draws one per process, then starts them all), and `portFree` still finds a drawn
 * port free then, so without this two draws could return the same port: a fresh-clone run failed
 * fault-matrix.test.ts that way: accounts was given 21269, as another subgraph of its platform had
 * been; accounts exited with EADDRINUSE while the other answered its readiness check, and then the
 * gateway's `signUp` ("Cannot query field signUp on type Mutation"). At half the range it forgets
 * its oldest entries (a Set keeps insertion order), long bound or released; no test run comes near.
 */
const handedOut = new Set<number>();

/**
 * True, and `ports` recorded as handed out, when none was handed out before and all are free now.
 * Recorded before the check, so two draws at once in this process cannot both take a port.
 */
async function take(...ports: number[]): Promise<boolean> {
  for (const oldest of handedOut) {
    if (handedOut.size < COUNT / 2) break;
    handedOut.delete(oldest);
  }
  if (ports.some((p) => handedOut.has(p))) return false;
  for (const p of ports) handedOut.add(p);
  for (const p of ports) {
    if (!(await portFree(p))) {
      for (const q of ports) handedOut.delete(q);
      return false;
    }
  }
  return true;
}

/**
 * A port free at 127.0.0.1, drawn at random from 20000–32699 and checked with `portFree`, for a
 * process of our own to listen on; never one this process handed out before (`handedOut` says why).
 * Not `listen(0)`: the OS hands that out from the ephemeral range, where the port may go to an
 * outgoing connection before our process binds it (a fresh-clone run failed many-instances.test.ts
 * with EADDRINUSE that way, on 34987).
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = FIRST + Math.floor(Math.random() * COUNT);
    if (await take(port)) return port;
  }
}

/**
 * A port p with p and p + 1 both free (a private Kafka broker's client and controller listeners),
 * drawn at random from 20000–32699 and checked with `portFree`. Below the ephemeral ranges (Linux
 * `net.ipv4.ip_local_port_range` defaults to 32768–60999; IANA's dynamic range is 49152–65535,
 * RFC 6335 §6): a port checked free there could be handed to any outgoing connection, or to a
 * `listen(0)`, before the broker binds it — a fresh-clone run failed lifecycle.test.ts that way
 * (port 44617 taken between the check and Kafka's start, test files running two at a time).
 * Like `freePort`, never a port this process handed out before.
 */
export async function freePortPair(): Promise<number> {
  for (;;) {
    const port = FIRST + Math.floor(Math.random() * (COUNT - 1));
    if (await take(port, port + 1)) return port;
  }
}
