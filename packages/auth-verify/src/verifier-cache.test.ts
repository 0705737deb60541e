// The verified-token cache: bounded, never past exp, revocation consulted on every hit.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { AUDIENCE, ISSUER, signToken } from "../test/support/tokens.ts";
import { AuthError } from "./auth-error.ts";
import { generateSigningKey, type SigningKey } from "./session-signer.ts";
import { createVerifier, type VerifierOptions } from "./verifier.ts";

const T0 = Date.UTC(2030, 0, 1, 12, 0, 0);
let key: SigningKey;

function cachedVerifier(extra: Partial<VerifierOptions> = {}) {
  return createVerifier({
    issuer: ISSUER,
    audience: AUDIENCE,
    keys: { jwks: { keys: [{ ...key.publicJwk }] } },
    ...extra,
  });
}

beforeEach(async () => {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(T0);
  key = await generateSigningKey();
});

afterEach(() => {
  vi.useRealTimers();
});

describe("verified-token cache", () => {
  it("serves a repeated token from the cache", async () => {
    const verifier = cachedVerifier();
    const token = await signToken(key.privateKey, key.kid);
    const first = await verifier.verifyToken(token);
    const second = await verifier.verifyToken(token);
    expect(second).toBe(first);
    expect(verifier.cacheStats()).toEqual({ hits: 1, misses: 1, size: 1 });
  });

  it("rejects a revoked session even when its token is in the cache", async () => {
    const revoked = new Set<string>();
    const calls: [string, number, string][] = [];
    const verifier = cachedVerifier({
      isRevoked: (sessionId, issuedAt, userId) => {
        calls.push([sessionId, issuedAt, userId]);
        return revoked.has(sessionId);
      },
    });
    const token = await signToken(key.privateKey, key.kid, { claims: { sid: "s-9", sub: "user-9" } });
    await verifier.verifyToken(token);
    await verifier.verifyToken(token);
    expect(verifier.cacheStats().hits).toBe(1);

    revoked.add("s-9");
    await expect(verifier.verifyToken(token)).rejects.toMatchObject({ reason: "REVOKED" });
    expect(verifier.cacheStats().hits).toBe(2);
    expect(calls).toEqual(Array.from({ length: 3 }, () => ["s-9", T0 / 1000, "user-9"]));
  });

  it("supports an async revocation check and revocation by issue time", async () => {
    let revokedBefore = 0;
    const verifier = cachedVerifier({
      isRevoked: (_sessionId, issuedAt) => Promise.resolve(issuedAt < revokedBefore),
    });
    const token = await signToken(key.privateKey, key.kid);
    await verifier.verifyToken(token);
    revokedBefore = T0 / 1000 + 1;
    await expect(verifier.verifyToken(token)).rejects.toMatchObject({ reason: "REVOKED" });
  });

  it("fails closed when the revocation hook throws", async () => {
    const outage = new Error("denylist unavailable");
    const verifier = cachedVerifier({ isRevoked: () => Promise.reject(outage) });
    const token = await signToken(key.privateKey, key.kid);
    await expect(verifier.verifyToken(token)).rejects.toBe(outage);
  });

  it("never serves a token past its exp", async () => {
    const verifier = cachedVerifier();
    const token = await signToken(key.privateKey, key.kid, { claims: { exp: T0 / 1000 + 60 } });
    await verifier.verifyToken(token);
    await verifier.verifyToken(token);
    expect(verifier.cacheStats()).toMatchObject({ hits: 1, misses: 1 });

    // Past exp but inside the 5 s tolerance: accepted, but by a full verification, not the cache.
    vi.setSystemTime(T0 + 62_000);
    await expect(verifier.verifyToken(token)).resolves.toBeDefined();
    expect(verifier.cacheStats()).toMatchObject({ hits: 1, misses: 2 });

    vi.setSystemTime(T0 + 66_000);
    const error = await verifier.verifyToken(token).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(AuthError);
    expect(error).toMatchObject({ reason: "TOKEN_EXPIRED" });
    expect(verifier.cacheStats()).toMatchObject({ hits: 1, misses: 3 });
  });

  it("is bounded by maxEntries", async () => {
    const verifier = cachedVerifier({ cache: { maxEntries: 2 } });
    for (const sid of ["a", "b", "c"]) {
      await verifier.verifyToken(await signToken(key.privateKey, key.kid, { claims: { sid } }));
    }
    expect(verifier.cacheStats().size).toBe(2);
  });

  it("can be turned off, and refuses a bad size at start-up", async () => {
    const verifier = cachedVerifier({ cache: false });
    const token = await signToken(key.privateKey, key.kid);
    await verifier.verifyToken(token);
    await verifier.verifyToken(token);
    expect(verifier.cacheStats()).toEqual({ hits: 0, misses: 0, size: 0 });
    expect(() => cachedVerifier({ cache: { maxEntries: 0 } })).toThrow("maxEntries");
  });

  it("does not cache a rejected token", async () => {
    const verifier = cachedVerifier();
    const token = await signToken(key.privateKey, key.kid, { claims: { aud: "elsewhere" } });
    await expect(verifier.verifyToken(token)).rejects.toMatchObject({ reason: "CLAIM_INVALID" });
    await expect(verifier.verifyToken(token)).rejects.toMatchObject({ reason: "CLAIM_INVALID" });
    expect(verifier.cacheStats().size).toBe(0);
  });
});
