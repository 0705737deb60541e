import {
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  jwtVerify,
  SignJWT,
  type CryptoKey,
  type JSONWebKeySet,
  type JWK,
} from "jose";
import { AuthConfigError, MAX_TOKEN_LENGTH } from "./auth-error.ts";
import { SESSION_TOKEN_ALGORITHM, SESSION_TOKEN_TYPE } from "./session-token.ts";

/** An Ed25519 signing key of the accounts subgraph. */
export interface SigningKey {
  /** Key id: the RFC 7638 JWK thumbprint (SHA-256, base64url) of the public key. */
  readonly kid: string;
  /** Private key; extractable only if generated with `extractable: true` or imported. */
  readonly privateKey: CryptoKey;
  /** Public JWK as published in the JWKS: `kty`, `crv`, `x`, `kid`, `alg: "EdDSA"`, `use: "sig"`. */
  readonly publicJwk: Readonly<JWK>;
}

async function toSigningKey(privateKey: CryptoKey, publicKey: CryptoKey): Promise<SigningKey> {
  const { kty, crv, x } = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint({ kty, crv, x }, "sha256");
  const publicJwk = Object.freeze({ kty, crv, x, kid, alg: SESSION_TOKEN_ALGORITHM, use: "sig" });
  return Object.freeze({ kid, privateKey, publicJwk });
}

/**
 * Generates a new Ed25519 session signing key (RFC 8037).
 * @param options.extractable allow {@link exportSigningKey} (to persist it in a secret store). Default false.
 */
export async function generateSigningKey(
  options: { readonly extractable?: boolean } = {},
): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair("EdDSA", {
    crv: "Ed25519",
    extractable: options.extractable === true,
  });
  return toSigningKey(privateKey, publicKey);
}

/**
 * Exports a signing key as a private JWK (with `kid`), for a secret store. Treat the result as a secret.
 * @throws TypeError if the key was generated non-extractable.
 */
export async function exportSigningKey(key: SigningKey): Promise<JWK> {
  const jwk = await exportJWK(key.privateKey);
  return { ...jwk, kid: key.kid, alg: SESSION_TOKEN_ALGORITHM };
}

/**
 * Imports a private Ed25519 JWK (`kty: "OKP"`, `crv: "Ed25519"`, `d`, `x`), e.g. from `AUTH_SIGNING_KEY`.
 * Signs and verifies a probe so a `d`/`x` mismatch fails here, not as unverifiable sessions later.
 * @throws AuthConfigError if the JWK is not a private Ed25519 key, its `kid` is not its thumbprint,
 *   or `x` is not the public half of `d`.
 */
export async function importSigningKey(privateJwk: JWK): Promise<SigningKey> {
  const { kty, crv, x, d } = privateJwk;
  if (kty !== "OKP" || crv !== "Ed25519" || typeof x !== "string" || typeof d !== "string") {
    throw new AuthConfigError('signing key must be a private Ed25519 JWK (kty "OKP", crv "Ed25519", x, d)');
  }
  let privateKey: CryptoKey;
  let publicKey: CryptoKey;
  try {
    privateKey = (await importJWK({ kty, crv, x, d }, SESSION_TOKEN_ALGORITHM)) as CryptoKey;
    publicKey = (await importJWK({ kty, crv, x }, SESSION_TOKEN_ALGORITHM)) as CryptoKey;
  } catch (error) {
    throw new AuthConfigError("signing key JWK could not be imported", { cause: error });
  }
  const key = await toSigningKey(privateKey, publicKey);
  if (privateJwk.kid !== undefined && privateJwk.kid !== key.kid) {
    throw new AuthConfigError(
      `signing key kid "${privateJwk.kid}" is not its RFC 7638 thumbprint "${key.kid}"`,
    );
  }
  const probe = await new SignJWT({}).setProtectedHeader({ alg: SESSION_TOKEN_ALGORITHM }).sign(privateKey);
  try {
    await jwtVerify(probe, publicKey);
  } catch (error) {
    throw new AuthConfigError("signing key: x is not the public key of d", { cause: error });
  }
  return key;
}

/** Options of {@link createSessionSigner}. */
export interface SessionSignerOptions {
  /** `iss` of every token; verifiers must expect the same value. */
  readonly issuer: string;
  /** `aud` of every token (e.g. the supergraph's name). */
  readonly audience: string;
  /** Key that signs new tokens. */
  readonly currentKey: SigningKey;
  /**
   * Keys that signed still-valid tokens: published in the JWKS, never used to sign. Keep a rotated-out key
   * here for at least the token lifetime plus the verifiers' JWKS cache age, then drop it.
   * Public JWKs or `SigningKey`s (only their public half is published).
   */
  readonly previousKeys?: readonly (SigningKey | JWK)[];
  /** Default token lifetime in seconds. Default 3600. Integer in [60, 86400]. */
  readonly ttlSeconds?: number;
}

/** What {@link SessionSigner.issue} needs. */
export interface IssueSessionInput {
  /** Account id, becomes `sub`. */
  readonly userId: string;
  /** Session id (the accounts subgraph's session row), becomes `sid`. */
  readonly sessionId: string;
  /** Role names, becomes `roles`. Default `[]`. */
  readonly roles?: readonly string[];
  /** Lifetime override in seconds, same bounds as {@link SessionSignerOptions.ttlSeconds}. */
  readonly ttlSeconds?: number;
}

/** A freshly signed session token. */
export interface IssuedSessionToken {
  /** Compact JWS. */
  readonly token: string;
  readonly sessionId: string;
  /** `iat`, seconds since the Unix epoch. */
  readonly issuedAt: number;
  /** `exp`, seconds since the Unix epoch. Pass the whole object to `SessionCookies.serialize`. */
  readonly expiresAt: number;
}

/** Signs session tokens and publishes the JWKS (accounts subgraph only). */
export interface SessionSigner {
  /**
   * Signs a session token: header `alg: EdDSA`, `kid`, `typ`; claims `iss`, `aud`, `sub`, `sid`,
   * `iat`, `exp`, `roles`.
   * @param nowMs current time in ms since the Unix epoch; default `Date.now()`.
   * @throws AuthConfigError on empty `userId`/`sessionId`, non-string roles, a ttl out of bounds, or a
   *   token over 8 KiB (every verifier would refuse it).
   */
  issue(input: IssueSessionInput, nowMs?: number): Promise<IssuedSessionToken>;
  /** JWKS (RFC 7517 §5) with the current then the previous public keys; serve it at `/.well-known/jwks.json`. */
  jwks(): JSONWebKeySet;
}

function checkTtl(value: number, option: string): number {
  if (!Number.isInteger(value) || value < 60 || value > 86_400) {
    throw new AuthConfigError(
      `${option} must be an integer number of seconds in [60, 86400], got ${String(value)}`,
    );
  }
  return value;
}

function publicPart(key: SigningKey | JWK): JWK {
  if ("publicJwk" in key) return { ...key.publicJwk };
  if ("d" in key || key.kty === "oct") {
    throw new AuthConfigError("previousKeys must be public keys (no private or symmetric key material)");
  }
  if (typeof key.kid !== "string" || key.kid === "") throw new AuthConfigError("previousKeys need a kid");
  return { ...key };
}

/**
 * Creates the accounts subgraph's session token signer.
 * @throws AuthConfigError on an empty issuer/audience, a bad ttl, private material in `previousKeys`,
 *   or duplicate `kid`s.
 */
export function createSessionSigner(options: SessionSignerOptions): SessionSigner {
  if (options.issuer === "" || options.audience === "") {
    throw new AuthConfigError("issuer and audience must be non-empty");
  }
  const defaultTtl = checkTtl(options.ttlSeconds ?? 3600, "ttlSeconds");
  const published = [options.currentKey.publicJwk, ...(options.previousKeys ?? []).map(publicPart)];
  const kids = new Set(published.map((jwk) => jwk.kid));
  if (kids.size !== published.length)
    throw new AuthConfigError("current and previous keys must have distinct kids");
  const jwksJson = JSON.stringify({ keys: published });
  const { currentKey } = options;

  return {
    async issue(input: IssueSessionInput, nowMs: number = Date.now()): Promise<IssuedSessionToken> {
      if (input.userId === "" || input.sessionId === "") {
        throw new AuthConfigError("userId and sessionId must be non-empty");
      }
      const roles = input.roles ?? [];
      if (!roles.every((role) => typeof role === "string"))
        throw new AuthConfigError("roles must be strings");
      const ttl = input.ttlSeconds === undefined ? defaultTtl : checkTtl(input.ttlSeconds, "ttlSeconds");
      const issuedAt = Math.floor(nowMs / 1000);
      const expiresAt = issuedAt + ttl;
      const token = await new SignJWT({ sid: input.sessionId, roles: [...roles] })
        .setProtectedHeader({ alg: SESSION_TOKEN_ALGORITHM, kid: currentKey.kid, typ: SESSION_TOKEN_TYPE })
        .setIssuer(options.issuer)
        .setAudience(options.audience)
        .setSubject(input.userId)
        .setIssuedAt(issuedAt)
        .setExpirationTime(expiresAt)
        .sign(currentKey.privateKey);
      if (token.length > MAX_TOKEN_LENGTH) {
        throw new AuthConfigError(`session token is over ${MAX_TOKEN_LENGTH} characters; too many roles?`);
      }
      return { token, sessionId: input.sessionId, issuedAt, expiresAt };
    },
    // A fresh copy each call, so a caller mutating it cannot change what is published next.
    jwks: () => JSON.parse(jwksJson) as JSONWebKeySet,
  };
}
