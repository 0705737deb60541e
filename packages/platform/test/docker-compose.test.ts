/**
 * docker-compose.yml cannot run here (no Docker engine), so it is checked statically against the
 * code: every deployable is in it, every variable it sets is one the service's env schema knows
 * and accepts, ports line up, and health checks call the endpoints the services really serve.
 */
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { GATEWAY_PORT, portVariable, SUBGRAPH_DECLARATIONS, subgraphUrlVariable } from "@boxoffice/topology";
import { describe, expect, it } from "vitest";
import { schemaKeys } from "./support/env-keys.ts";
import { parse } from "yaml";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const run = promisify(execFile);

interface ComposeService {
  image?: string;
  build?: { context: string; args?: { SERVICE?: string } };
  environment?: Record<string, string | number>;
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  command?: string[];
}

const compose = parse(readFileSync(path.join(ROOT, "docker-compose.yml"), "utf8"), { merge: true }) as {
  services: Record<string, ComposeService>;
};
const services = compose.services;

// The deployables and their ports come from the topology (@boxoffice/topology), declared once.
const deployables = [
  ...SUBGRAPH_DECLARATIONS.map((s) => ({ name: s.name, dir: `subgraphs/${s.name}`, port: s.port })),
  { name: "gateway", dir: "gateway", port: GATEWAY_PORT },
];

/**
 * The variable names a service's zod env schema declares (its src/env.ts, the only reader of
 * process.env); the gateway's SUBGRAPH_URL_<NAME> fields are derived from the topology.
 */
/** Runs the service's own env validation on `env` in a child process; resolves to the parsed config. */
async function validate(dir: string, env: Record<string, string>): Promise<Record<string, unknown>> {
  const source = readFileSync(path.join(ROOT, dir, "src", "env.ts"), "utf8");
  const fn = /export function (\w+Env)\(/.exec(source)?.[1];
  if (!fn) throw new Error(`${dir}/src/env.ts exports no *Env function`);
  const script = `const m = await import("./src/env.ts"); process.stdout.write(JSON.stringify(m.${fn}(JSON.parse(process.env.COMPOSE_ENV))));`;
  const { stdout } = await run(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    cwd: path.join(ROOT, dir),
    env: { PATH: process.env.PATH, COMPOSE_ENV: JSON.stringify(env) },
  });
  return JSON.parse(stdout) as Record<string, unknown>;
}

describe("docker-compose.yml", () => {
  it("has the engines, the migration job, every subgraph of the topology and the gateway — and nothing else", () => {
    const expected = ["postgres", "kafka", "migrate", ...deployables.map((d) => d.name)];
    expect(
      expected.filter((name) => !services[name]),
      "services missing from docker-compose.yml",
    ).toEqual([]);
    expect(
      Object.keys(services).filter((name) => !expected.includes(name)),
      "services the topology does not declare",
    ).toEqual([]);
    for (const [name, service] of Object.entries(services)) {
      const target = service.build?.args?.SERVICE;
      if (target) expect(existsSync(path.join(ROOT, target)), `${name} builds ${target}`).toBe(true);
      if (name !== "migrate" && target)
        expect(target.endsWith(name), `${name} builds its own folder`).toBe(true);
    }
    expect(services.kafka?.environment?.KAFKA_AUTO_CREATE_TOPICS_ENABLE).toBe("false");
  });

  it.each(deployables)(
    "$name: every variable is known to its env schema and accepted by it, the port the declared one",
    async ({ name, dir, port }) => {
      const environment = Object.fromEntries(
        Object.entries(services[name]?.environment ?? {}).map(([k, v]) => [k, String(v)]),
      );
      const known = schemaKeys(ROOT, dir);
      expect(
        Object.keys(environment).filter((k) => !known.includes(k)),
        "variables the service does not read",
      ).toEqual([]);
      const parsed = await validate(dir, environment);
      const portVar = name === "gateway" ? "GATEWAY_PORT" : portVariable(name);
      expect(parsed[portVar], `${name}: ${portVar}`).toBe(port);
    },
  );

  it.each(deployables)(
    "$name: health check calls its own port and a real endpoint, and others wait for it",
    ({ name }) => {
      const service = services[name]!;
      const port = String(service.environment?.[name === "gateway" ? "GATEWAY_PORT" : portVariable(name)]);
      const check = service.healthcheck?.test.join(" ") ?? "";
      const endpoint = name === "gateway" ? "/healthz" : "/readyz"; // served by gateway.ts / service-kit
      expect(check).toContain(`http://localhost:${port}${endpoint}`);
      if (name !== "gateway") {
        expect(services.gateway?.depends_on?.[name]?.condition).toBe("service_healthy");
        expect(services[name]?.depends_on?.migrate?.condition).toBe("service_completed_successfully");
        expect(services.gateway?.environment?.[subgraphUrlVariable(name)]).toBe(
          `http://${name}:${port}/graphql`,
        );
      }
    },
  );

  it("without <NAME>_PORT, each subgraph listens on its declared port (its env default is the topology's)", async () => {
    const defaults: string[] = [];
    for (const { name, dir, port } of deployables.filter((d) => d.name !== "gateway")) {
      const parsed = await validate(dir, {
        DATABASE_URL: "postgresql://postgres:postgres@127.0.0.1:5432/boxoffice",
        KAFKA_BROKERS: "127.0.0.1:9092",
      });
      if (parsed[portVariable(name)] !== port)
        defaults.push(`${name}: ${String(parsed[portVariable(name)])}, declared ${port}`);
    }
    expect(defaults, "env.ts port defaults that differ from packages/topology/topology.json").toEqual([]);
  });

  it("the subgraphs verify tokens against the accounts JWKS inside the compose network", () => {
    for (const { name } of deployables.filter((d) => d.name !== "accounts" && d.name !== "gateway")) {
      expect(services[name]?.environment?.AUTH_JWKS_URL).toBe(
        `http://accounts:${String(services.accounts?.environment?.ACCOUNTS_PORT)}/.well-known/jwks.json`,
      );
    }
  });

  it("the Dockerfile builds any deployable from the SERVICE argument and runs its compiled dist/main.js", () => {
    const dockerfile = readFileSync(path.join(ROOT, "Dockerfile"), "utf8");
    expect(dockerfile).toMatch(/ARG SERVICE=/);
    expect(dockerfile).toMatch(/pnpm install --frozen-lockfile/);
    expect(dockerfile).toMatch(/turbo run build/);
    expect(dockerfile).toMatch(/CMD \["node", "--conditions=compiled", "dist\/main\.js"\]/);
    for (const { dir } of deployables) {
      const manifest = JSON.parse(readFileSync(path.join(ROOT, dir, "package.json"), "utf8")) as {
        scripts: Record<string, string>;
      };
      expect(manifest.scripts.build, `${dir} has a build script`).toMatch(/tsc -p tsconfig\.build\.json/);
    }
  });
});
