import { calculateJwkThumbprint, decodeProtectedHeader, exportJWK, generateKeyPair } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { AUDIENCE, ISSUER, payloadOf } from "../test/support/tokens.ts";
import { AuthConfigError } from "./auth-error.ts";
import {
  createSessionSigner,
  exportSigningKey,
  generateSigningKey,
  importSigningKey,
  type SigningKey,
} from "./session-signer.ts";
import { createVerifier } from "./verifier.ts";

let key: SigningKey;

beforeAll(async () => {
  key = await generateSigningKey({ extractable: true });
});

describe("generateSigningKey", () => {
  it("makes an Ed25519 key whose kid is its RFC 7638 thumbprint", async () => {
    expect(key.publicJwk).toMatchObject({
      kty: "OKP",
      crv: "Ed25519",
      alg: "EdDSA",
      use: "sig",
      kid: key.kid,
    });
    const { kty, crv, x } = key.publicJwk;
    expect(key.kid).toBe(await calculateJwkThumbprint({ kty, crv, x }));
    expect(key.publicJwk).not.toHaveProperty("d");
  });

  it("keeps private keys non-extractable unless asked", async () => {
    const sealed = await generateSigningKey();
    await expect(exportSigningKey(sealed)).rejects.toThrow();
  });
});

describe("importSigningKey / exportSigningKey", () => {
  it("round-trips through a private JWK and signs tokens the original public key verifies", async () => {
    const jwk = await exportSigningKey(key);
    expect(jwk).toMatchObject({ kty: "OKP", crv: "Ed25519", kid: key.kid });
    const imported = await importSigningKey(jwk);
    expect(imported.kid).toBe(key.kid);
    const signer = createSessionSigner({ issuer: ISSUER, audience: AUDIENCE, currentKey: imported });
    const verifier = createVerifier({
      issuer: ISSUER,
      audience: AUDIENCE,
      keys: { jwks: { keys: [{ ...key.publicJwk }] } },
    });
    const issued = await signer.issue({ userId: "u", sessionId: "s" });
    await expect(verifier.verifyToken(issued.token)).resolves.toMatchObject({ userId: "u" });
  });

  it("refuses a wrong kid, a d/x mismatch, a public-only JWK and other key types", async () => {
    const jwk = await exportSigningKey(key);
    const other = await generateSigningKey();
    await expect(importSigningKey({ ...jwk, kid: "chosen-by-hand" })).rejects.toThrow(AuthConfigError);
    await expect(importSigningKey({ ...jwk, kid: undefined, x: other.publicJwk.x })).rejects.toThrow(
      AuthConfigError,
    );
    await expect(importSigningKey({ ...key.publicJwk })).rejects.toThrow(AuthConfigError);
    const ec = await generateKeyPair("ES256", { extractable: true });
    await expect(importSigningKey(await exportJWK(ec.privateKey))).rejects.toThrow(AuthConfigError);
  });
});

describe("createSessionSigner", () => {
  it("issues EdDSA tokens with kid, typ, iss, aud, sub, sid, iat, exp and roles", async () => {
    const signer = createSessionSigner({
      issuer: ISSUER,
      audience: AUDIENCE,
      currentKey: key,
      ttlSeconds: 900,
    });
    const nowMs = Date.UTC(2030, 0, 1, 0, 0, 0, 750);
    const issued = await signer.issue({ userId: "user-1", sessionId: "s-1", roles: ["seller"] }, nowMs);
    expect(decodeProtectedHeader(issued.token)).toEqual({
      alg: "EdDSA",
      kid: key.kid,
      typ: "boxoffice-session+jwt",
    });
    const iat = Math.floor(nowMs / 1000);
    expect(payloadOf(issued.token)).toEqual({
      iss: ISSUER,
      aud: AUDIENCE,
      sub: "user-1",
      sid: "s-1",
      iat,
      exp: iat + 900,
      roles: ["seller"],
    });
    expect(issued).toMatchObject({ sessionId: "s-1", issuedAt: iat, expiresAt: iat + 900 });
  });

  it("publishes current then previous public keys, as a fresh copy each time", async () => {
    const previous = await generateSigningKey();
    const older = { ...(await generateSigningKey()).publicJwk };
    const signer = createSessionSigner({
      issuer: ISSUER,
      audience: AUDIENCE,
      currentKey: key,
      previousKeys: [previous, older],
    });
    const jwks = signer.jwks();
    expect(jwks.keys.map((jwk) => jwk.kid)).toEqual([key.kid, previous.kid, older.kid]);
    expect(jwks.keys.every((jwk) => !("d" in jwk))).toBe(true);
    jwks.keys.pop();
    expect(signer.jwks().keys).toHaveLength(3);
  });

  it("refuses bad configuration and inputs", async () => {
    const base = { issuer: ISSUER, audience: AUDIENCE, currentKey: key };
    expect(() => createSessionSigner({ ...base, ttlSeconds: 59 })).toThrow(AuthConfigError);
    expect(() => createSessionSigner({ ...base, ttlSeconds: 86_401 })).toThrow(AuthConfigError);
    expect(() => createSessionSigner({ ...base, ttlSeconds: 90.5 })).toThrow(AuthConfigError);
    expect(() => createSessionSigner({ ...base, issuer: "" })).toThrow(AuthConfigError);
    expect(() => createSessionSigner({ ...base, previousKeys: [key] })).toThrow(AuthConfigError);
    const privateJwk = await exportSigningKey(await generateSigningKey({ extractable: true }));
    expect(() => createSessionSigner({ ...base, previousKeys: [privateJwk] })).toThrow(AuthConfigError);

    const signer = createSessionSigner(base);
    await expect(signer.issue({ userId: "", sessionId: "s" })).rejects.toThrow(AuthConfigError);
    await expect(signer.issue({ userId: "u", sessionId: "s", ttlSeconds: 10 })).rejects.toThrow(
      AuthConfigError,
    );
    const roles = Array.from({ length: 1000 }, (_, index) => `role-${index}`);
    await expect(signer.issue({ userId: "u", sessionId: "s", roles })).rejects.toThrow("8192");
  });
});
