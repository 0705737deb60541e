// Benchmark (not a test): microseconds per session-token verification, cold and cached.
// Run: npx tsx bench/verify.bench.ts   (or: npx -y pnpm@12.4.2 --filter @boxoffice/auth-verify bench)
import { performance } from "node:perf_hooks";
import {
  createSessionCookies,
  createSessionSigner,
  createVerifier,
  generateSigningKey,
  type Verifier,
} from "../src/index.ts";

const ISSUER = "https://accounts.boxoffice.bench";
const AUDIENCE = "boxoffice-supergraph";
const COLD_SAMPLES = 2000;
const CACHED_SAMPLES = 20000;
const WARMUP = 500;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 0
    ? ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2
    : (sorted[middle] ?? 0);
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? 0;
}

async function timeEach(count: number, run: (index: number) => Promise<unknown>): Promise<number[]> {
  const samples: number[] = [];
  for (let index = 0; index < count; index += 1) {
    const start = performance.now();
    await run(index);
    samples.push((performance.now() - start) * 1000);
  }
  return samples;
}

function report(label: string, samples: number[]): void {
  const line = `${label.padEnd(44)} median ${median(samples).toFixed(1).padStart(7)} µs   p99 ${percentile(
    samples,
    99,
  )
    .toFixed(1)
    .padStart(7)} µs   (n=${samples.length})`;
  console.log(line);
}

async function main(): Promise<void> {
  const key = await generateSigningKey();
  const signer = createSessionSigner({ issuer: ISSUER, audience: AUDIENCE, currentKey: key });
  const jwks = signer.jwks();
  const cookies = createSessionCookies({ environment: "production" });
  const make = (cache: false | { maxEntries: number }): Verifier =>
    createVerifier({ issuer: ISSUER, audience: AUDIENCE, keys: { jwks }, cache, cookies });

  const tokens = await Promise.all(
    Array.from({ length: COLD_SAMPLES + WARMUP }, (_, index) =>
      signer.issue({ userId: `user-${index}`, sessionId: `session-${index}`, roles: ["buyer"] }),
    ),
  );

  // Cold: cache off and every token distinct, so each call is a full Ed25519 verification.
  const cold = make(false);
  await timeEach(WARMUP, (index) => cold.verifyToken(tokens[index]?.token ?? ""));
  const coldSamples = await timeEach(COLD_SAMPLES, (index) =>
    cold.verifyToken(tokens[WARMUP + index]?.token ?? ""),
  );

  // Cached: one token verified once, then served from the LRU (hash + lookup + revocation hook).
  const denylist = new Set<string>();
  const cachedVerifier = createVerifier({
    issuer: ISSUER,
    audience: AUDIENCE,
    keys: { jwks },
    cookies,
    isRevoked: (sessionId) => denylist.has(sessionId),
  });
  const hot = tokens[0]?.token ?? "";
  await timeEach(WARMUP, () => cachedVerifier.verifyToken(hot));
  const cachedSamples = await timeEach(CACHED_SAMPLES, () => cachedVerifier.verifyToken(hot));

  // Cached, through the full request path: Cookie header parsing + verification.
  const request = { headers: { cookie: `theme=dark; ${cookies.name}=${hot}; _ga=GA1.2.3` } };
  await timeEach(WARMUP, () => cachedVerifier.authenticate(request));
  const requestSamples = await timeEach(CACHED_SAMPLES, () => cachedVerifier.authenticate(request));

  console.log(`auth-verify benchmark — Node ${process.version}, EdDSA (Ed25519), token ${hot.length} chars`);
  report("cold   verifyToken (cache off, unique tokens)", coldSamples);
  report("cached verifyToken (LRU hit + isRevoked)", cachedSamples);
  report("cached authenticate (Cookie header + hit)", requestSamples);
  console.log(`cache stats: ${JSON.stringify(cachedVerifier.cacheStats())}`);
}

await main();
