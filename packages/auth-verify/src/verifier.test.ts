import { CompactSign, exportJWK, exportSPKI, FlattenedSign, generateKeyPair, SignJWT } from "jose";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { startCountingServer, type CountingServer } from "../test/support/jwks-server.ts";
import {
  AUDIENCE,
  flipCharacter,
  ISSUER,
  nowSec,
  payloadOf,
  segment,
  signToken,
  validClaims,
  withPayload,
} from "../test/support/tokens.ts";
import { AuthConfigError, AuthError, type AuthErrorReason } from "./auth-error.ts";
import { createSessionSigner, generateSigningKey, type SigningKey } from "./session-signer.ts";
import { createVerifier, type Verifier, type VerifierOptions } from "./verifier.ts";

let key: SigningKey;
let verifier: Verifier;

function verifierFor(keys: readonly SigningKey[], extra: Partial<VerifierOptions> = {}): Verifier {
  return createVerifier({
    issuer: ISSUER,
    audience: AUDIENCE,
    keys: { jwks: { keys: keys.map((k) => ({ ...k.publicJwk })) } },
    cache: false,
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

beforeAll(async () => {
  key = await generateSigningKey();
  verifier = verifierFor([key]);
});

describe("accepts", () => {
  it("a token issued by the session signer, as a frozen principal", async () => {
    const signer = createSessionSigner({ issuer: ISSUER, audience: AUDIENCE, currentKey: key });
    const issued = await signer.issue({ userId: "user-42", sessionId: "s-42", roles: ["seller"] });
    const principal = await verifier.verifyToken(issued.token);
    expect(principal).toEqual({
      userId: "user-42",
      sessionId: "s-42",
      roles: ["seller"],
      issuedAt: issued.issuedAt,
      expiresAt: issued.expiresAt,
    });
    expect(Object.isFrozen(principal)).toBe(true);
    expect(Object.isFrozen(principal.roles)).toBe(true);
  });

  it("a token without roles as roles []", async () => {
    const token = await signToken(key.privateKey, key.kid, { claims: { roles: undefined } });
    expect((await verifier.verifyToken(token)).roles).toEqual([]);
  });

  it("expiry and not-before within the 5 s default tolerance", async () => {
    const now = nowSec();
    const expiredJustNow = await signToken(key.privateKey, key.kid, { claims: { exp: now - 2 } });
    const notBeforeSoon = await signToken(key.privateKey, key.kid, { claims: { nbf: now + 2 } });
    await expect(verifier.verifyToken(expiredJustNow)).resolves.toMatchObject({ userId: "user-1" });
    await expect(verifier.verifyToken(notBeforeSoon)).resolves.toMatchObject({ userId: "user-1" });
  });
});

describe("rejects with a reason code", () => {
  it("alg none (unsecured JWT), with or without a signature segment", async () => {
    const header = segment({ alg: "none", kid: key.kid, typ: "boxoffice-session+jwt" });
    const unsecured = `${header}.${segment(validClaims(nowSec()))}.`;
    const signed = await signToken(key.privateKey, key.kid);
    expect(await reasonOf(verifier.verifyToken(unsecured))).toBe("ALG_NOT_ALLOWED");
    expect(await reasonOf(verifier.verifyToken(`${unsecured}${signed.split(".")[2]}`))).toBe(
      "ALG_NOT_ALLOWED",
    );
    const mixedCase = `${segment({ alg: "NoNe", kid: key.kid })}.${segment(validClaims(nowSec()))}.`;
    expect(await reasonOf(verifier.verifyToken(mixedCase))).toBe("ALG_NOT_ALLOWED");
  });

  it("HS256 signed with the public key as the HMAC secret (algorithm confusion)", async () => {
    const publicJwkJson = new TextEncoder().encode(JSON.stringify(key.publicJwk));
    const rawPublicKey = new TextEncoder().encode(key.publicJwk.x ?? "");
    for (const secret of [publicJwkJson, rawPublicKey]) {
      const token = await signToken(secret, key.kid, { header: { alg: "HS256" } });
      expect(await reasonOf(verifier.verifyToken(token))).toBe("ALG_NOT_ALLOWED");
    }
  });

  it("HS256 signed with an RSA public key's PEM (the classic confusion) against an RS256 verifier", async () => {
    const rsa = await generateKeyPair("RS256");
    const jwk = { ...(await exportJWK(rsa.publicKey)), kid: "rsa-1", alg: "RS256" };
    const rsVerifier = createVerifier({
      issuer: ISSUER,
      audience: AUDIENCE,
      algorithms: ["RS256"],
      keys: { jwks: { keys: [jwk] } },
    });
    const good = await signToken(rsa.privateKey, "rsa-1", { header: { alg: "RS256" } });
    await expect(rsVerifier.verifyToken(good)).resolves.toMatchObject({ userId: "user-1" });
    const pem = new TextEncoder().encode(await exportSPKI(rsa.publicKey));
    const forged = await signToken(pem, "rsa-1", { header: { alg: "HS256" } });
    expect(await reasonOf(rsVerifier.verifyToken(forged))).toBe("ALG_NOT_ALLOWED");
  });

  it("a token expired beyond the clock tolerance", async () => {
    const token = await signToken(key.privateKey, key.kid, { claims: { exp: nowSec() - 10 } });
    expect(await reasonOf(verifier.verifyToken(token))).toBe("TOKEN_EXPIRED");
  });

  it("nbf in the future beyond the clock tolerance", async () => {
    const token = await signToken(key.privateKey, key.kid, { claims: { nbf: nowSec() + 60 } });
    expect(await reasonOf(verifier.verifyToken(token))).toBe("TOKEN_NOT_YET_VALID");
  });

  it("iat in the future beyond the clock tolerance", async () => {
    const token = await signToken(key.privateKey, key.kid, { claims: { iat: nowSec() + 60 } });
    const error = await verifier.verifyToken(token).catch((thrown: unknown) => thrown);
    expect(error).toMatchObject({ reason: "CLAIM_INVALID", claim: "iat" });
  });

  it("a signed token whose lifetime exceeds the maximum session lifetime (100 years, or 8 h + 6 s)", async () => {
    const now = nowSec();
    const century = await signToken(key.privateKey, key.kid, { claims: { exp: now + 100 * 365 * 86_400 } });
    expect(await verifier.verifyToken(century).catch((e: unknown) => e)).toMatchObject({
      reason: "CLAIM_INVALID",
      claim: "exp",
    });
    // Default maximum 28 800 s, tolerance 5 s: 28 806 s is one second too long, 28 805 s passes.
    const justOver = await signToken(key.privateKey, key.kid, { claims: { exp: now + 28_806 } });
    expect(await reasonOf(verifier.verifyToken(justOver))).toBe("CLAIM_INVALID");
    const atLimit = await signToken(key.privateKey, key.kid, { claims: { exp: now + 28_805 } });
    await expect(verifier.verifyToken(atLimit)).resolves.toMatchObject({ userId: "user-1" });
  });

  it("a token issued longer ago than a session may last, even with a short exp - iat", async () => {
    const short = verifierFor([key], { maxSessionLifetimeSec: 600 });
    const now = nowSec();
    const old = await signToken(key.privateKey, key.kid, { claims: { iat: now - 700, exp: now + 60 } });
    expect(await short.verifyToken(old).catch((e: unknown) => e)).toMatchObject({
      reason: "CLAIM_INVALID",
    });
    const recent = await signToken(key.privateKey, key.kid, { claims: { iat: now - 500, exp: now + 60 } });
    await expect(short.verifyToken(recent)).resolves.toMatchObject({ userId: "user-1" });
  });

  it.each([
    ["exp", { exp: undefined }],
    ["iss", { iss: "https://evil.example" }],
    ["iss", { iss: undefined }],
    ["aud", { aud: "another-api" }],
    ["aud", { aud: undefined }],
    ["sub", { sub: undefined }],
    ["sub", { sub: 42 }],
    ["sid", { sid: undefined }],
    ["sid", { sid: "" }],
    ["iat", { iat: undefined }],
    ["roles", { roles: "admin" }],
    ["roles", { roles: ["buyer", 7] }],
  ])("claim %s wrong or missing (%j)", async (claim, claims) => {
    const token = await signToken(key.privateKey, key.kid, { claims });
    const error = await verifier.verifyToken(token).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(AuthError);
    expect(error).toMatchObject({ reason: "CLAIM_INVALID", claim });
  });

  it("a wrong or missing typ", async () => {
    const idToken = await signToken(key.privateKey, key.kid, { header: { typ: "JWT" } });
    const untyped = await signToken(key.privateKey, key.kid, { header: { typ: undefined } });
    expect(await reasonOf(verifier.verifyToken(idToken))).toBe("TYPE_INVALID");
    expect(await reasonOf(verifier.verifyToken(untyped))).toBe("TYPE_INVALID");
  });

  it("an unknown or missing kid", async () => {
    const unknown = await signToken(key.privateKey, "no-such-kid");
    const missing = await signToken(key.privateKey, key.kid, { header: { kid: undefined } });
    expect(await reasonOf(verifier.verifyToken(unknown))).toBe("UNKNOWN_KID");
    expect(await reasonOf(verifier.verifyToken(missing))).toBe("UNKNOWN_KID");
  });

  it("a tampered payload (role escalation, other user)", async () => {
    const token = await signToken(key.privateKey, key.kid);
    const escalated = withPayload(token, { ...payloadOf(token), roles: ["admin"] });
    const otherUser = withPayload(token, { ...payloadOf(token), sub: "user-2" });
    expect(await reasonOf(verifier.verifyToken(escalated))).toBe("BAD_SIGNATURE");
    expect(await reasonOf(verifier.verifyToken(otherUser))).toBe("BAD_SIGNATURE");
    // The signature is checked before the payload is even parsed.
    expect(await reasonOf(verifier.verifyToken(flipCharacter(token, 1)))).toBe("BAD_SIGNATURE");
  });

  it("a tampered signature", async () => {
    const token = await signToken(key.privateKey, key.kid);
    expect(await reasonOf(verifier.verifyToken(flipCharacter(token, 2)))).toBe("BAD_SIGNATURE");
  });

  it("a token signed by another key under a known kid", async () => {
    const attacker = await generateSigningKey();
    const token = await signToken(attacker.privateKey, key.kid);
    expect(await reasonOf(verifier.verifyToken(token))).toBe("BAD_SIGNATURE");
  });

  it("a token over 8 KB, before any parsing", async () => {
    const roles = Array.from({ length: 1000 }, (_, index) => `role-${index}`);
    const validButHuge = await signToken(key.privateKey, key.kid, { claims: { roles } });
    expect(validButHuge.length).toBeGreaterThan(8192);
    expect(await reasonOf(verifier.verifyToken(validButHuge))).toBe("TOKEN_TOO_LARGE");
    // Not even the compact-JWS shape is looked at: garbage over the limit is TOO_LARGE, not MALFORMED.
    expect(await reasonOf(verifier.verifyToken("%".repeat(8193)))).toBe("TOKEN_TOO_LARGE");
    expect(await reasonOf(verifier.verifyToken("%".repeat(8192)))).toBe("MALFORMED");
  });

  it("a critical header extension we do not understand (RFC 7515 §4.1.11)", async () => {
    const token = await new SignJWT(validClaims(nowSec()))
      .setProtectedHeader({ alg: "EdDSA", kid: key.kid, typ: "boxoffice-session+jwt", crit: ["bx"], bx: 1 })
      .sign(key.privateKey, { crit: { bx: true } });
    expect(await reasonOf(verifier.verifyToken(token))).toBe("MALFORMED");
  });

  it("an unencoded payload (b64: false, RFC 7797), even correctly signed", async () => {
    const claims = "eyJzdWIiOiJhZG1pbiJ9";
    const flattened = await new FlattenedSign(new TextEncoder().encode(claims))
      .setProtectedHeader({
        alg: "EdDSA",
        kid: key.kid,
        typ: "boxoffice-session+jwt",
        b64: false,
        crit: ["b64"],
      })
      .sign(key.privateKey);
    const token = `${flattened.protected}.${claims}.${flattened.signature}`;
    expect(await reasonOf(verifier.verifyToken(token))).toBe("MALFORMED");
  });

  it("exp or iat that JSON turns into Infinity (1e400), even correctly signed", async () => {
    for (const [claim, member] of [
      ["exp", '"exp":1e400'],
      ["iat", '"iat":-1e400'],
    ] as const) {
      const json = JSON.stringify({ ...validClaims(nowSec()), [claim]: 0 }).replace(`"${claim}":0`, member);
      const token = await new CompactSign(new TextEncoder().encode(json))
        .setProtectedHeader({ alg: "EdDSA", kid: key.kid, typ: "boxoffice-session+jwt" })
        .sign(key.privateKey);
      const error = await verifier.verifyToken(token).catch((thrown: unknown) => thrown);
      expect(error).toMatchObject({ reason: "CLAIM_INVALID", claim });
    }
  });

  it("garbage that is not a compact JWS", async () => {
    for (const token of ["", "abc", "a.b", "a.b.c.d.e", "a b.c.d", "!!!.e30.sig", "bm90IGpzb24.e30.sig"]) {
      expect(await reasonOf(verifier.verifyToken(token))).toBe("MALFORMED");
    }
    // A header without alg is refused by the allowlist before anything else is looked at.
    expect(await reasonOf(verifier.verifyToken("e30.e30.sig"))).toBe("ALG_NOT_ALLOWED");
  });
});

describe("jku, x5u, jwk and x5c headers are never fetched or trusted", () => {
  let attackerServer: CountingServer | undefined;
  afterEach(async () => {
    await attackerServer?.close();
    attackerServer = undefined;
  });

  it("refuses them even when the token is signed by the attacker's key that they point to", async () => {
    const attacker = await generateSigningKey();
    attackerServer = await startCountingServer({ keys: [attacker.publicJwk] });
    const headers = [
      { jku: attackerServer.url },
      { x5u: attackerServer.url },
      { jwk: { ...attacker.publicJwk } },
      { x5c: ["MIIB"] },
    ];
    for (const header of headers) {
      const token = await signToken(attacker.privateKey, attacker.kid, { header });
      expect(await reasonOf(verifier.verifyToken(token))).toBe("HEADER_NOT_ALLOWED");
      // Also when the attacker reuses our kid.
      const reusedKid = await signToken(attacker.privateKey, key.kid, { header });
      expect(await reasonOf(verifier.verifyToken(reusedKid))).toBe("HEADER_NOT_ALLOWED");
    }
    const ours = await signToken(key.privateKey, key.kid, { header: { jku: attackerServer.url } });
    expect(await reasonOf(verifier.verifyToken(ours))).toBe("HEADER_NOT_ALLOWED");
    expect(attackerServer.requests()).toBe(0);
  });
});

describe("rotation with a static JWKS", () => {
  it("accepts the previous key during the overlap and rejects it once removed", async () => {
    const previous = key;
    const current = await generateSigningKey();
    const oldToken = await createSessionSigner({
      issuer: ISSUER,
      audience: AUDIENCE,
      currentKey: previous,
    }).issue({
      userId: "user-7",
      sessionId: "s-7",
    });
    const signer = createSessionSigner({
      issuer: ISSUER,
      audience: AUDIENCE,
      currentKey: current,
      previousKeys: [previous],
    });
    const newToken = await signer.issue({ userId: "user-8", sessionId: "s-8" });
    const duringOverlap = createVerifier({
      issuer: ISSUER,
      audience: AUDIENCE,
      keys: { jwks: signer.jwks() },
    });
    await expect(duringOverlap.verifyToken(oldToken.token)).resolves.toMatchObject({ userId: "user-7" });
    await expect(duringOverlap.verifyToken(newToken.token)).resolves.toMatchObject({ userId: "user-8" });

    const afterOverlap = createSessionSigner({ issuer: ISSUER, audience: AUDIENCE, currentKey: current });
    const rotated = createVerifier({
      issuer: ISSUER,
      audience: AUDIENCE,
      keys: { jwks: afterOverlap.jwks() },
    });
    expect(await reasonOf(rotated.verifyToken(oldToken.token))).toBe("UNKNOWN_KID");
    await expect(rotated.verifyToken(newToken.token)).resolves.toMatchObject({ userId: "user-8" });
  });
});

describe("public keys as a key source", () => {
  it("verifies with a CryptoKey bound to a kid and alg, and refuses other kids and algs", async () => {
    const pair = await generateKeyPair("ES256");
    const esVerifier = createVerifier({
      issuer: ISSUER,
      audience: AUDIENCE,
      algorithms: ["ES256", "EdDSA"],
      keys: { publicKeys: [{ kid: "es-1", alg: "ES256", key: pair.publicKey }] },
    });
    const good = await signToken(pair.privateKey, "es-1", { header: { alg: "ES256" } });
    await expect(esVerifier.verifyToken(good)).resolves.toMatchObject({ userId: "user-1" });
    const wrongKid = await signToken(pair.privateKey, "es-2", { header: { alg: "ES256" } });
    expect(await reasonOf(esVerifier.verifyToken(wrongKid))).toBe("UNKNOWN_KID");
    const wrongAlg = await signToken(key.privateKey, "es-1");
    expect(await reasonOf(esVerifier.verifyToken(wrongAlg))).toBe("UNKNOWN_KID");
  });
});

describe("start-up errors, never silent defaults", () => {
  const base = () => ({
    issuer: ISSUER,
    audience: AUDIENCE,
    keys: { jwks: { keys: [{ ...key.publicJwk }] } },
  });

  it.each([Number.NaN, Number.POSITIVE_INFINITY, -1, 301])("clockToleranceSec %s", (clockToleranceSec) => {
    expect(() => createVerifier({ ...base(), clockToleranceSec })).toThrow(AuthConfigError);
  });

  it("accepts clock tolerances 0 and 300", () => {
    expect(() => createVerifier({ ...base(), clockToleranceSec: 0 })).not.toThrow();
    for (const maxSessionLifetimeSec of [59, 30 * 86_400 + 1, 90.5, Number.NaN]) {
      expect(() => createVerifier({ ...base(), maxSessionLifetimeSec })).toThrow(AuthConfigError);
    }
    expect(() => createVerifier({ ...base(), clockToleranceSec: 300 })).not.toThrow();
  });

  it.each(["none", "HS256", "HS512", "RSA-OAEP", ""])("algorithm %j", (alg) => {
    // A JavaScript caller or a cast can still pass anything; the runtime check is the real guard.
    const algorithms = [alg] as unknown as VerifierOptions["algorithms"];
    expect(() => createVerifier({ ...base(), algorithms })).toThrow(AuthConfigError);
  });

  it("a symmetric or private key in the JWKS", async () => {
    const { privateKey } = await generateKeyPair("EdDSA", { extractable: true });
    const privateJwk = { ...(await exportJWK(privateKey)), kid: "p" };
    const octJwk = { kty: "oct", k: "c2VjcmV0", kid: "o" };
    for (const jwk of [privateJwk, octJwk]) {
      expect(() => createVerifier({ ...base(), keys: { jwks: { keys: [jwk] } } })).toThrow(AuthConfigError);
    }
  });

  it("missing or duplicate kids, empty issuer or audience, bad JWKS URLs", () => {
    const noKid = { ...key.publicJwk, kid: undefined };
    expect(() => createVerifier({ ...base(), keys: { jwks: { keys: [noKid] } } })).toThrow(AuthConfigError);
    const twice = { keys: [{ ...key.publicJwk }, { ...key.publicJwk }] };
    expect(() => createVerifier({ ...base(), keys: { jwks: twice } })).toThrow(AuthConfigError);
    expect(() => createVerifier({ ...base(), issuer: "" })).toThrow(AuthConfigError);
    expect(() => createVerifier({ ...base(), audience: [] })).toThrow(AuthConfigError);
    expect(() => createVerifier({ ...base(), keys: { jwksUrl: "http://accounts.internal/jwks" } })).toThrow(
      AuthConfigError,
    );
    expect(() => createVerifier({ ...base(), keys: { jwksUrl: "not a url" } })).toThrow(AuthConfigError);
    // Host names that merely start like a loopback address are ordinary, remote hosts.
    for (const jwksUrl of ["http://127.0.0.1.attacker.example/jwks", "http://127.internal/jwks"]) {
      expect(() => createVerifier({ ...base(), keys: { jwksUrl } })).toThrow(AuthConfigError);
    }
    for (const jwksUrl of ["http://127.0.0.1:4001/jwks", "http://127.1.2.3/jwks", "http://localhost/jwks"]) {
      expect(() => createVerifier({ ...base(), keys: { jwksUrl } })).not.toThrow();
    }
    expect(() =>
      createVerifier({
        ...base(),
        keys: { jwksUrl: "https://accounts.example/jwks", cooldownMs: Number.NaN },
      }),
    ).toThrow(AuthConfigError);
  });

  it("a public key bound to an algorithm it cannot verify (RSA key as EdDSA, P-384 key as ES256)", async () => {
    const rsa = await generateKeyPair("RS256");
    const p384 = await generateKeyPair("ES384");
    for (const [alg, publicKey] of [
      ["EdDSA", rsa.publicKey],
      ["ES256", p384.publicKey],
    ] as const) {
      const keys = { publicKeys: [{ kid: "k-1", alg, key: publicKey }] };
      expect(() => createVerifier({ ...base(), algorithms: ["EdDSA", "ES256"], keys })).toThrow(
        AuthConfigError,
      );
    }
  });

  it("a public key bound to an algorithm outside the allowlist", async () => {
    const pair = await generateKeyPair("ES256");
    const keys = { publicKeys: [{ kid: "es-1", alg: "ES256", key: pair.publicKey }] };
    expect(() => createVerifier({ ...base(), keys })).toThrow(AuthConfigError);
    expect(() =>
      createVerifier({
        ...base(),
        algorithms: ["ES256"],
        keys: { publicKeys: [{ kid: "es-1", alg: "ES256", key: pair.privateKey }] },
      }),
    ).toThrow(AuthConfigError);
  });
});

describe("test support", () => {
  it("the token builder really emits the HS256 header the confusion tests ask for", async () => {
    // Sanity check of the test builder itself, so the confusion tests above really sent HS256.
    const token = await new SignJWT({}).setProtectedHeader({ alg: "HS256" }).sign(new Uint8Array(32));
    expect(JSON.parse(atob(token.split(".")[0] ?? ""))).toEqual({ alg: "HS256" });
  });
});
