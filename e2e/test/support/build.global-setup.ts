/**
 * The e2e platforms run each deployable's compiled `dist/main.js` (what the container image runs),
 * which starts faster than through tsx (measured, `startPlatform` on quiet 2-core machines: 4.9 s
 * compiled vs 7.6 s tsx on one, 7.7–8.4 s vs 11.3–12.8 s on a slower one; an e2e run starts about
 * fifteen platforms and restarts). So
 * before any e2e file runs, the build outputs must match the sources: this runs `turbo run build`
 * for the deployables, which is a cache hit taking a second or two when nothing changed (as in the
 * README's test command, which builds first) and rebuilds what did change otherwise.
 *
 * @throws Error with turbo's output when the build fails.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";

const ROOT = path.resolve(import.meta.dirname, "../../..");
/** `pnpm@<version>` from the root package.json: turbo needs the workspace's package manager on hand. */
const PACKAGE_MANAGER = (
  JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { packageManager: string }
).packageManager;

export default async function setup(): Promise<void> {
  // Through `npx -y pnpm@… exec`, as the README runs everything: turbo looks for the pnpm binary,
  // which is not on PATH when vitest is started directly (`npx vitest run --project e2e`).
  const args = [
    "-y",
    PACKAGE_MANAGER,
    "exec",
    "turbo",
    "run",
    "build",
    "--output-logs=errors-only",
    "--filter=./subgraphs/*",
    "--filter=@boxoffice/gateway",
  ];
  const child = spawn("npx", args, {
    cwd: ROOT,
    env: { ...process.env, TURBO_TELEMETRY_DISABLED: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output: string[] = [];
  child.stdout.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", resolve);
  });
  if (code !== 0) throw new Error(`turbo run build failed (exit ${code}):\n${output.join("")}`);
}
