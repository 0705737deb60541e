/**
 * Preloaded into a gateway process under test (`node --import <this file>`): records every
 * outgoing TCP connection, UDP datagram and host-name lookup the process starts, one JSON line per
 * attempt in the file named by `RECORD_CONNECTIONS_FILE`, before the attempt is made. Every Node
 * client (http, https, undici/fetch, OTLP exporters, cloud metadata probes) ends in
 * `net.Socket.prototype.connect`, `dgram.Socket.prototype.send` or `dns.lookup`, so nothing that
 * leaves the process from JavaScript escapes the record.
 */
import dgram from "node:dgram";
import dns from "node:dns";
import { appendFileSync } from "node:fs";
import net from "node:net";

const file = process.env.RECORD_CONNECTIONS_FILE;
if (!file) throw new Error("RECORD_CONNECTIONS_FILE is required");
const record = (entry: Record<string, unknown>) => appendFileSync(file, `${JSON.stringify(entry)}\n`);

// Taken unbound on purpose: the wrapper calls it with the socket as `this`.
const connect = Reflect.get(net.Socket.prototype, "connect") as (...a: unknown[]) => net.Socket;
net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
  // Node calls it as connect(options | port[, host] | path[, listener]) or with its normalized array.
  const first = Array.isArray(args[0]) ? (args[0] as unknown[])[0] : args[0];
  if (typeof first === "object" && first !== null) {
    const { host, port, path } = first as { host?: unknown; port?: unknown; path?: unknown };
    record(path ? { kind: "ipc", path } : { kind: "tcp", host: host ?? "localhost", port: Number(port) });
  } else if (typeof first === "string" && Number.isNaN(Number(first))) {
    record({ kind: "ipc", path: first });
  } else {
    record({ kind: "tcp", host: typeof args[1] === "string" ? args[1] : "localhost", port: Number(first) });
  }
  return connect.apply(this, args);
};

type Send = typeof dgram.Socket.prototype.send;
const send = Reflect.get(dgram.Socket.prototype, "send") as (...a: unknown[]) => void;
dgram.Socket.prototype.send = function (this: dgram.Socket, ...args: unknown[]) {
  record({ kind: "udp", args: args.filter((a) => typeof a === "string" || typeof a === "number") });
  send.apply(this, args);
} as Send;

const lookup = dns.lookup;
dns.lookup = function (hostname: string, ...rest: unknown[]) {
  record({ kind: "lookup", host: hostname });
  return (lookup as (...a: unknown[]) => void).call(dns, hostname, ...rest);
} as typeof dns.lookup;
const lookupAsync = dns.promises.lookup;
dns.promises.lookup = function (hostname: string, ...rest: unknown[]) {
  record({ kind: "lookup", host: hostname });
  return (lookupAsync as (...a: unknown[]) => Promise<unknown>).call(dns.promises, hostname, ...rest);
} as typeof dns.promises.lookup;
