/**
 * A TCP round-robin balancer in front of a subgraph's instances, for platforms started with more
 * than one instance per subgraph on one machine. It stands in for what a Kubernetes Service does
 * (kube-proxy spreads connections over the ready endpoints of a Service; a pod that stops being
 * ready is removed from them): the gateways and the verifiers' JWKS fetch use one URL per subgraph,
 * and each new connection goes to the next live instance. Test tooling only, not a production proxy:
 * no health probing beyond "the process is still running", no connection draining.
 */
import net from "node:net";

export interface Backend {
  port: number;
  /** False once the instance's process has exited: it is skipped, as an endpoint that left. */
  alive: () => boolean;
}

export interface Balancer {
  port: number;
  close: () => Promise<void>;
}

/**
 * Listens on 127.0.0.1:`port` (0: a free port) and pipes each connection to the next live backend,
 * trying the following one when a connection is refused (an instance that just died).
 *
 * @throws Error when the port cannot be bound.
 */
export async function startBalancer(backends: Backend[], port = 0): Promise<Balancer> {
  let next = 0;
  const sockets = new Set<net.Socket>();
  const connect = (client: net.Socket, tried: number) => {
    const live = backends.filter((b) => b.alive());
    if (live.length === 0 || tried >= live.length) {
      client.destroy();
      return;
    }
    const backend = live[next++ % live.length]!;
    const upstream = net.connect({ port: backend.port, host: "127.0.0.1" });
    sockets.add(upstream);
    upstream.once("close", () => sockets.delete(upstream));
    let connected = false;
    upstream.once("connect", () => {
      connected = true;
      client.pipe(upstream).pipe(client);
      client.resume();
      // Either side closing ends the other: a killed instance resets the client's connection.
      upstream.once("close", () => client.destroy());
      client.once("close", () => upstream.destroy());
    });
    upstream.on("error", (error: NodeJS.ErrnoException) => {
      if (!connected && error.code === "ECONNREFUSED") connect(client, tried + 1);
      else client.destroy();
    });
  };
  const server = net.createServer({ pauseOnConnect: true }, (client) => {
    sockets.add(client);
    client.once("close", () => sockets.delete(client));
    client.on("error", () => client.destroy());
    connect(client, 0);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
