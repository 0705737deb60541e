import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { composeSdl } from "../src/index.ts";
import { ITEMS_SDL, startFixture, USERS_SDL, type Fixture } from "./fixture-subgraphs.ts";

const gatewayDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
let fixture: Fixture;
let workDir: string;

beforeAll(async () => {
  fixture = await startFixture();
  workDir = await mkdtemp(path.join(tmpdir(), "gateway-connections-"));
});
afterAll(async () => {
  await fixture?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

describe("a running gateway", () => {
  it("connects to its subgraphs and nowhere else (no usage data to Apollo, no cloud metadata probes)", async () => {
    const supergraphPath = path.join(workDir, "supergraph.graphql");
    await writeFile(
      supergraphPath,
      composeSdl([
        { name: "users", url: fixture.users.url, sdl: USERS_SDL },
        { name: "items", url: fixture.items.url, sdl: ITEMS_SDL },
      ]),
    );
    const recordFile = path.join(workDir, "connections.jsonl");
    await writeFile(recordFile, "");
    const port = await freePort();
    // The user's environment as it is, minus any opt-out: the default must be what keeps data home.
    const { APOLLO_TELEMETRY_DISABLED: _optOut, ...env } = process.env;
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "--import", "./test/support/record-connections.ts", "src/main.ts"],
      {
        cwd: gatewayDir,
        env: {
          ...env,
          NODE_ENV: "production",
          // Production requires the secret that seals the subgraphs (issue 12); any 32+ characters do.
          GATEWAY_SHARED_SECRET: "a-test-secret-of-at-least-32-characters",
          LOG_LEVEL: "silent",
          GATEWAY_PORT: String(port),
          GATEWAY_SUPERGRAPH_PATH: supergraphPath,
          RECORD_CONNECTIONS_FILE: recordFile,
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    const output: string[] = [];
    child.stdout.on("data", (c: Buffer) => output.push(c.toString()));
    child.stderr.on("data", (c: Buffer) => output.push(c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    try {
      const url = `http://127.0.0.1:${port}`;
      for (let ready = false; !ready;) {
        if (child.exitCode !== null) throw new Error(`gateway exited:\n${output.join("")}`);
        ready = await fetch(`${url}/healthz`).then(
          (r) => r.ok,
          () => false,
        );
        if (!ready) await sleep(100);
      }
      const res = await fetch(`${url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: "{ items { id owner { email } } }" }),
      });
      expect(await res.json()).toEqual({
        data: { items: [{ id: "i1", owner: { email: "u1@example.test" } }] },
      });
      // Background exporters and cloud-metadata probes start within moments of construction.
      await sleep(1_500);
    } finally {
      child.kill("SIGTERM"); // a clean stop flushes exporters: their last chance to send
      await exited;
    }

    const attempts = (await readFile(recordFile, "utf8"))
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const subgraphs = [fixture.users.url, fixture.items.url].map((u) => {
      const { hostname, port: p } = new URL(u);
      return { kind: "tcp", host: hostname, port: Number(p) };
    });
    // Resolving a subgraph's own host name is part of reaching it.
    const toSubgraph = (a: Record<string, unknown>) =>
      subgraphs.some((s) => s.host === a.host && (a.kind === "lookup" || s.port === a.port));
    expect(attempts).toEqual(expect.arrayContaining(subgraphs));
    expect(attempts.filter((a) => !toSubgraph(a))).toEqual([]);
  });
});
