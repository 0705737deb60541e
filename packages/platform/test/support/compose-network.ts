/**
 * A compose network without Docker: one Linux network namespace per compose service, all joined to
 * one bridge through veth pairs (what compose's default network is: a bridge, one address per
 * container, every service name resolvable by every container). `ip netns exec` bind-mounts
 * `/etc/netns/<ns>/hosts` over `/etc/hosts`, so each service's processes resolve the other services'
 * names exactly as they would inside compose, and `localhost` is the service's own loopback.
 *
 * Needs root and iproute2 (`ip`). Every address is in a /24 this module creates itself; nothing
 * outside the bridge is touched, and `close()` removes the namespaces, links and hosts files.
 */
import { execFile } from "node:child_process";
import { mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface ComposeNetwork {
  /** The address of each service on the bridge (reachable from this process too). */
  address: (service: string) => string;
  /** The network namespace of `service`, for `ip netns exec`. */
  namespace: (service: string) => string;
  /** argv prefix that runs a command inside `service`'s namespace. */
  exec: (service: string) => string[];
  close: () => Promise<void>;
}

async function ip(...args: string[]): Promise<void> {
  await run("ip", args);
}

/**
 * Creates the bridge, one namespace per service (loopback up, one veth end with its address) and the
 * hosts files. Names carry this process's pid so parallel runs never share a link or namespace.
 *
 * @throws Error from `ip` when not root or iproute2 is missing (the message says which).
 */
export async function createComposeNetwork(services: string[]): Promise<ComposeNetwork> {
  const tag = `bxc${process.pid}`;
  // 10.217.<pid mod 250>.0/24: private (RFC 1918) and ours alone; the bridge is .1, services .10 up.
  const subnet = `10.217.${process.pid % 250}`;
  const bridge = tag;
  const addresses = new Map(services.map((s, i) => [s, `${subnet}.${10 + i}`]));
  const namespaces = new Map(services.map((s) => [s, `${tag}-${s}`]));
  const created: string[] = [];
  let bridgeUp = false;

  const close = async () => {
    for (const ns of created) {
      await ip("netns", "del", ns).catch(() => undefined);
      await rm(path.join("/etc/netns", ns), { recursive: true, force: true });
    }
    if (bridgeUp) await ip("link", "del", bridge).catch(() => undefined);
  };

  try {
    await ip("link", "add", bridge, "type", "bridge");
    bridgeUp = true;
    await ip("addr", "add", `${subnet}.1/24`, "dev", bridge);
    await ip("link", "set", bridge, "up");
    const hosts = [
      "127.0.0.1 localhost",
      "::1 localhost",
      ...services.map((s) => `${addresses.get(s)!} ${s}`),
      "",
    ].join("\n");
    for (const [index, service] of services.entries()) {
      const ns = namespaces.get(service)!;
      await ip("netns", "add", ns);
      created.push(ns);
      await mkdir(path.join("/etc/netns", ns), { recursive: true });
      await writeFile(path.join("/etc/netns", ns, "hosts"), hosts);
      const host = `${tag}h${index}`;
      const peer = `${tag}c${index}`;
      await ip("link", "add", host, "type", "veth", "peer", "name", peer);
      await ip("link", "set", host, "master", bridge);
      await ip("link", "set", host, "up");
      await ip("link", "set", peer, "netns", ns);
      await ip("-n", ns, "link", "set", "lo", "up");
      await ip("-n", ns, "addr", "add", `${addresses.get(service)!}/24`, "dev", peer);
      await ip("-n", ns, "link", "set", peer, "up");
    }
  } catch (error) {
    await close();
    throw new Error(
      `Could not build the compose network (${(error as Error).message.trim()}). The compose boot test needs root and iproute2's \`ip netns\`.`,
      { cause: error },
    );
  }

  const lookup = <T>(map: Map<string, T>, service: string): T => {
    const value = map.get(service);
    if (value === undefined) throw new Error(`no compose service named ${service}`);
    return value;
  };
  return {
    address: (service) => lookup(addresses, service),
    namespace: (service) => lookup(namespaces, service),
    exec: (service) => ["ip", "netns", "exec", lookup(namespaces, service)],
    close,
  };
}
