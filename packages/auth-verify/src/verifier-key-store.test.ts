// Keys replicated into the service (a KeyStore) with the JWKS endpoint as fallback: what a subgraph
// does while the accounts service is down, after a rotation, and after a retirement.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCountingServer, type CountingServer } from "../test/support/jwks-server.ts";
import { AUDIENCE, ISSUER, signToken } from "../test/support/tokens.ts";
import { AuthConfigError, AuthError, type AuthErrorReason } from "./auth-error.ts";
import { createKeyStore } from "./key-store.ts";
import { generateSigningKey, type SigningKey } from "./session-signer.ts";
import { createVerifier } from "./verifier.ts";

let oldKey: SigningKey;
let newKey: SigningKey;
let jwksServer: CountingServer;

async function reasonOf(promise: Promise<unknown>): Promise<AuthErrorReason> {
  const error: unknown = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof AuthError)) throw new Error(`expected an AuthError, got ${String(error)}`);
  return error.reason;
}

beforeAll(async () => {
  oldKey = await generateSigningKey();
  newKey = await generateSigningKey();
  jwksServer = await startCountingServer({ keys: [{ ...oldKey.publicJwk }, { ...newKey.publicJwk }] });
});

afterAll(async () => {
  await jwksServer.close();
});

function verifierOn(store: ReturnType<typeof createKeyStore>, withFallback = true) {
  return createVerifier({
    issuer: ISSUER,
    audience: AUDIENCE,
    keys: {
      keyStore: store,
      ...(withFallback ? { fallback: { jwksUrl: jwksServer.url, cooldownMs: 0 } } : {}),
    },
  });
}

describe("a verifier on a key store", () => {
  it("verifies from the store with the JWKS endpoint down, past any cache age", async () => {
    const store = createKeyStore();
    store.replace({ published: [oldKey.publicJwk], retired: [] });
    jwksServer.setStatus(503);
    const before = jwksServer.requests();
    try {
      const verifier = verifierOn(store);
      const token = await signToken(oldKey.privateKey, oldKey.kid);
      await expect(verifier.verifyToken(token)).resolves.toMatchObject({ userId: "user-1" });
      await expect(verifier.verifyToken(token)).resolves.toMatchObject({ userId: "user-1" });
      expect(jwksServer.requests()).toBe(before);
    } finally {
      jwksServer.setStatus(200);
    }
  });

  it("asks the JWKS only while the store is empty, or for a kid it does not know yet", async () => {
    const store = createKeyStore();
    const verifier = verifierOn(store);
    const before = jwksServer.requests();
    await expect(verifier.verifyToken(await signToken(oldKey.privateKey, oldKey.kid))).resolves.toBeDefined();
    expect(jwksServer.requests()).toBe(before + 1);
    store.replace({ published: [oldKey.publicJwk], retired: [] });
    // newKey was published by accounts a moment ago; its event has not reached this store yet.
    await expect(verifier.verifyToken(await signToken(newKey.privateKey, newKey.kid))).resolves.toBeDefined();
    // A kid nobody published: UNKNOWN_KID after the fallback found nothing either.
    const stranger = await generateSigningKey();
    expect(await reasonOf(verifier.verifyToken(await signToken(stranger.privateKey, stranger.kid)))).toBe(
      "UNKNOWN_KID",
    );
  });

  it("an empty store and an unreachable fallback: KEYS_UNAVAILABLE (503), not a refusal of the token", async () => {
    const store = createKeyStore();
    jwksServer.setStatus(503);
    try {
      const verifier = verifierOn(store);
      expect(await reasonOf(verifier.verifyToken(await signToken(oldKey.privateKey, oldKey.kid)))).toBe(
        "KEYS_UNAVAILABLE",
      );
    } finally {
      jwksServer.setStatus(200);
    }
  });

  it("a retirement refuses the key at once, cached verifications included, even if the JWKS still offers it", async () => {
    const store = createKeyStore();
    store.replace({ published: [oldKey.publicJwk, newKey.publicJwk], retired: [] });
    const verifier = verifierOn(store);
    const oldToken = await signToken(oldKey.privateKey, oldKey.kid);
    const newToken = await signToken(newKey.privateKey, newKey.kid);
    await verifier.verifyToken(oldToken);
    await verifier.verifyToken(oldToken); // now a cache hit
    expect(store.replace({ published: [newKey.publicJwk], retired: [oldKey.kid] })).toBe(true);
    // The JWKS server still serves oldKey (a lagging endpoint): the store's retirement wins.
    expect(await reasonOf(verifier.verifyToken(oldToken))).toBe("UNKNOWN_KID");
    await expect(verifier.verifyToken(newToken)).resolves.toMatchObject({ userId: "user-1" });
  });

  it("without a fallback, an unknown kid is UNKNOWN_KID and nothing is fetched", async () => {
    const store = createKeyStore();
    store.replace({ published: [newKey.publicJwk], retired: [] });
    const before = jwksServer.requests();
    const verifier = verifierOn(store, false);
    expect(await reasonOf(verifier.verifyToken(await signToken(oldKey.privateKey, oldKey.kid)))).toBe(
      "UNKNOWN_KID",
    );
    expect(jwksServer.requests()).toBe(before);
  });
});

describe("createKeyStore", () => {
  it("re-reading the same set changes nothing; a different one bumps the generation", () => {
    const store = createKeyStore();
    expect(store.replace({ published: [oldKey.publicJwk, newKey.publicJwk], retired: [] })).toBe(true);
    const generation = store.generation();
    expect(store.replace({ published: [newKey.publicJwk, oldKey.publicJwk], retired: [] })).toBe(false);
    expect(store.generation()).toBe(generation);
    expect(store.replace({ published: [newKey.publicJwk], retired: [oldKey.kid] })).toBe(true);
    expect(store.generation()).toBe(generation + 1);
    expect([store.size(), store.has(newKey.kid), store.isRetired(oldKey.kid)]).toEqual([1, true, true]);
  });

  it("refuses private, symmetric, kid-less or duplicate keys and keeps the previous set", () => {
    const store = createKeyStore();
    store.replace({ published: [newKey.publicJwk], retired: [] });
    const bad = [
      [{ ...oldKey.publicJwk, d: "private" }],
      [{ kty: "oct", k: "c2VjcmV0", kid: "h" }],
      [{ ...oldKey.publicJwk, kid: undefined }],
      [oldKey.publicJwk, { ...newKey.publicJwk, kid: oldKey.kid }],
    ];
    for (const published of bad) {
      expect(() => store.replace({ published, retired: [] })).toThrow(AuthConfigError);
    }
    expect([store.size(), store.has(newKey.kid)]).toEqual([1, true]);
  });
});
