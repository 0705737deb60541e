// Keys from a JWKS URL: a real HTTP server on 127.0.0.1 serves the JWKS and counts the fetches.
// Only Date is faked (never timers or crypto), to step over the cooldown and cache age without waiting.
import { randomUUID } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { startCountingServer, type CountingServer } from "../test/support/jwks-server.ts";
import { AUDIENCE, ISSUER, signToken } from "../test/support/tokens.ts";
import { AuthError, type AuthErrorReason } from "./auth-error.ts";
import { createSessionSigner, generateSigningKey, type SigningKey } from "./session-signer.ts";
import { createVerifier, type Verifier, type VerifierOptions } from "./verifier.ts";

const T0 = Date.UTC(2030, 0, 1, 12, 0, 0);

let server: CountingServer;
let key: SigningKey;

function remoteVerifier(extra: Partial<VerifierOptions> = {}): Verifier {
  return createVerifier({
    issuer: ISSUER,
    audience: AUDIENCE,
    keys: { jwksUrl: server.url, cooldownMs: 30_000, cacheMaxAgeMs: 600_000 },
    ...extra,
  });
}

async function reasonOf(promise: Promise<unknown>): Promise<AuthErrorReason> {
  const error: unknown = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof AuthError)) throw new Error(`expected an AuthError, got ${String(error)}`);
  return error.reason;
}

beforeEach(async () => {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(T0);
  key = await generateSigningKey();
  server = await startCountingServer({ keys: [key.publicJwk] });
});

afterEach(async () => {
  vi.useRealTimers();
  await server.close();
});

describe("JWKS URL key source", () => {
  it("fetches the key set once and verifies every following token from it", async () => {
    const verifier = remoteVerifier({ cache: false });
    for (const sessionId of ["s-1", "s-2", "s-3"]) {
      const token = await signToken(key.privateKey, key.kid, { claims: { sid: sessionId } });
      await expect(verifier.verifyToken(token)).resolves.toMatchObject({ sessionId });
    }
    expect(server.requests()).toBe(1);
  });

  it("unknown kid: one refetch, then reject; a burst of random kids costs at most one fetch per cooldown", async () => {
    const verifier = remoteVerifier({ cache: false });
    const valid = await signToken(key.privateKey, key.kid);
    await verifier.verifyToken(valid);
    expect(server.requests()).toBe(1);

    // Right after a fetch the cooldown is running: an unknown kid is refused without fetching.
    const early = await signToken(key.privateKey, "unknown-kid");
    expect(await reasonOf(verifier.verifyToken(early))).toBe("UNKNOWN_KID");
    expect(server.requests()).toBe(1);

    // After the cooldown: exactly one refetch, then the unknown kid is refused.
    vi.setSystemTime(T0 + 31_000);
    const late = await signToken(key.privateKey, "unknown-kid");
    expect(await reasonOf(verifier.verifyToken(late))).toBe("UNKNOWN_KID");
    expect(server.requests()).toBe(2);

    const burst = async (count: number): Promise<AuthErrorReason[]> => {
      const tokens = await Promise.all(
        Array.from({ length: count }, () => signToken(key.privateKey, randomUUID())),
      );
      return Promise.all(tokens.map((token) => reasonOf(verifier.verifyToken(token))));
    };
    expect(new Set(await burst(100))).toEqual(new Set(["UNKNOWN_KID"]));
    expect(server.requests()).toBe(2);

    // Next cooldown window: a concurrent burst shares one fetch, and later kids fetch nothing.
    vi.setSystemTime(T0 + 62_000);
    expect(new Set(await burst(100))).toEqual(new Set(["UNKNOWN_KID"]));
    expect(server.requests()).toBe(3);
    for (let index = 0; index < 20; index += 1) {
      expect(await reasonOf(verifier.verifyToken(await signToken(key.privateKey, randomUUID())))).toBe(
        "UNKNOWN_KID",
      );
    }
    expect(server.requests()).toBe(3);
    await expect(verifier.verifyToken(await signToken(key.privateKey, key.kid))).resolves.toBeDefined();
  });

  it("picks up a key added to the JWKS (rotation start) through the unknown-kid refetch", async () => {
    const verifier = remoteVerifier();
    await verifier.verifyToken(await signToken(key.privateKey, key.kid));
    const next = await generateSigningKey();
    server.setBody({ keys: [next.publicJwk, key.publicJwk] });
    vi.setSystemTime(T0 + 31_000);
    const token = await signToken(next.privateKey, next.kid);
    await expect(verifier.verifyToken(token)).resolves.toMatchObject({ userId: "user-1" });
    expect(server.requests()).toBe(2);
  });

  it("accepts the previous key during the overlap and rejects it once removed, even from the cache", async () => {
    const previous = key;
    const current = await generateSigningKey();
    const overlap = createSessionSigner({
      issuer: ISSUER,
      audience: AUDIENCE,
      currentKey: current,
      previousKeys: [previous],
    });
    server.setBody(overlap.jwks());
    const oldSigner = createSessionSigner({
      issuer: ISSUER,
      audience: AUDIENCE,
      currentKey: previous,
      ttlSeconds: 7200,
    });
    const oldToken = (await oldSigner.issue({ userId: "user-7", sessionId: "s-7" })).token;
    const newToken = (await overlap.issue({ userId: "user-8", sessionId: "s-8", ttlSeconds: 7200 })).token;

    const verifier = remoteVerifier();
    await expect(verifier.verifyToken(oldToken)).resolves.toMatchObject({ userId: "user-7" });
    await expect(verifier.verifyToken(oldToken)).resolves.toMatchObject({ userId: "user-7" });
    expect(verifier.cacheStats().hits).toBe(1);

    // The overlap ends: accounts publishes only the current key.
    server.setBody(createSessionSigner({ issuer: ISSUER, audience: AUDIENCE, currentKey: current }).jwks());

    // Without an explicit reload, the cached acceptance lasts at most the JWKS cache age.
    vi.setSystemTime(T0 + 600_001);
    expect(await reasonOf(verifier.verifyToken(oldToken))).toBe("UNKNOWN_KID");
    await expect(verifier.verifyToken(newToken)).resolves.toMatchObject({ userId: "user-8" });
    expect(server.requests()).toBe(2);
  });

  it("reloadKeys() drops a removed key at once and invalidates cached verifications", async () => {
    const compromised = key;
    const replacement = await generateSigningKey();
    server.setBody({ keys: [replacement.publicJwk, compromised.publicJwk] });
    const verifier = remoteVerifier();
    const token = await signToken(compromised.privateKey, compromised.kid);
    await verifier.verifyToken(token);
    await verifier.verifyToken(token);
    expect(verifier.cacheStats().hits).toBe(1);

    server.setBody({ keys: [replacement.publicJwk] });
    await verifier.reloadKeys();
    expect(await reasonOf(verifier.verifyToken(token))).toBe("UNKNOWN_KID");
    expect(server.requests()).toBe(2);
  });

  it("never fetches for an oversized token or a token with a key-carrying header", async () => {
    const verifier = remoteVerifier();
    const roles = Array.from({ length: 1000 }, (_, index) => `role-${index}`);
    const huge = await signToken(key.privateKey, key.kid, { claims: { roles } });
    expect(await reasonOf(verifier.verifyToken(huge))).toBe("TOKEN_TOO_LARGE");
    const attacker = await startCountingServer({ keys: [key.publicJwk] }, "/attacker.json");
    try {
      for (const header of [{ jku: attacker.url }, { x5u: attacker.url }, { jwk: { ...key.publicJwk } }]) {
        const token = await signToken(key.privateKey, key.kid, { header });
        expect(await reasonOf(verifier.verifyToken(token))).toBe("HEADER_NOT_ALLOWED");
      }
      expect(attacker.requests()).toBe(0);
    } finally {
      await attacker.close();
    }
    expect(server.requests()).toBe(0);
  });

  it("reports KEYS_UNAVAILABLE (not a bad token) when the JWKS cannot be fetched", async () => {
    server.setStatus(500);
    const verifier = remoteVerifier();
    const token = await signToken(key.privateKey, key.kid);
    expect(await reasonOf(verifier.verifyToken(token))).toBe("KEYS_UNAVAILABLE");
    await expect(verifier.reloadKeys()).rejects.toMatchObject({ reason: "KEYS_UNAVAILABLE" });

    // The failed fetch started the cooldown; once it is over, the recovered endpoint is used again.
    server.setStatus(200);
    vi.setSystemTime(T0 + 30_001);
    await expect(verifier.verifyToken(token)).resolves.toMatchObject({ userId: "user-1" });

    const url = server.url;
    await server.close();
    server = await startCountingServer({ keys: [] });
    const unreachable = createVerifier({ issuer: ISSUER, audience: AUDIENCE, keys: { jwksUrl: url } });
    expect(await reasonOf(unreachable.verifyToken(token))).toBe("KEYS_UNAVAILABLE");
  });

  it.each<[string, (server: CountingServer) => void]>([
    ["answers 503", (jwks) => jwks.setStatus(503)],
    ["answers 200 with something that is not a JWKS", (jwks) => jwks.setBody("<html>maintenance</html>")],
  ])(
    "while the endpoint %s, a flood of requests costs at most one fetch per cooldown",
    async (_label, breakServer) => {
      const verifier = remoteVerifier({ cache: false });
      await verifier.verifyToken(await signToken(key.privateKey, key.kid));
      expect(server.requests()).toBe(1);
      breakServer(server);

      // Past the cooldown, random kids each ask for a refetch; only the first one reaches the server.
      vi.setSystemTime(T0 + 31_000);
      for (let index = 0; index < 20; index += 1) {
        const token = await signToken(key.privateKey, randomUUID());
        expect(await reasonOf(verifier.verifyToken(token))).toBe("KEYS_UNAVAILABLE");
      }
      expect(server.requests()).toBe(2);
      // Tokens under the known, still fresh key are unaffected by the outage.
      await expect(verifier.verifyToken(await signToken(key.privateKey, key.kid))).resolves.toBeDefined();

      // Once the keys are stale every request needs them: still one fetch per cooldown, failing closed.
      vi.setSystemTime(T0 + 600_001);
      for (let index = 0; index < 20; index += 1) {
        const token = await signToken(key.privateKey, key.kid, { claims: { sid: `s-${index}` } });
        expect(await reasonOf(verifier.verifyToken(token))).toBe("KEYS_UNAVAILABLE");
      }
      expect(server.requests()).toBe(3);

      // The endpoint recovers: the next fetch after the cooldown succeeds and tokens verify again.
      server.setStatus(200);
      server.setBody({ keys: [key.publicJwk] });
      vi.setSystemTime(T0 + 631_002);
      await expect(verifier.verifyToken(await signToken(key.privateKey, key.kid))).resolves.toBeDefined();
      expect(server.requests()).toBe(4);
    },
  );

  it("reloadKeys() fetches at once even right after a failed fetch", async () => {
    server.setStatus(500);
    const verifier = remoteVerifier();
    const token = await signToken(key.privateKey, key.kid);
    expect(await reasonOf(verifier.verifyToken(token))).toBe("KEYS_UNAVAILABLE");
    server.setStatus(200);
    await verifier.reloadKeys();
    await expect(verifier.verifyToken(token)).resolves.toMatchObject({ userId: "user-1" });
    expect(server.requests()).toBe(2);
  });
});
