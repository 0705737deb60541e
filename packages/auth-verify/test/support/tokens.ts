// Builders for real, jose-signed test tokens, including deliberately wrong ones.
import { base64url, SignJWT, type CryptoKey, type JWTHeaderParameters } from "jose";
import { SESSION_TOKEN_TYPE } from "../../src/session-token.ts";

export const ISSUER = "https://accounts.boxoffice.test";
export const AUDIENCE = "boxoffice-supergraph";

export interface TokenSpec {
  /** Header members to add or override; `undefined` removes one. */
  readonly header?: Readonly<Record<string, unknown>>;
  /** Claims to add or override; `undefined` removes one. */
  readonly claims?: Readonly<Record<string, unknown>>;
  /** "Now" for iat/exp defaults, seconds since the epoch. */
  readonly nowSec?: number;
}

function withoutUndefined(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined));
}

/** Claims of a valid session token issued at `nowSec`, expiring 10 minutes later. */
export function validClaims(nowSec: number): Record<string, unknown> {
  return {
    iss: ISSUER,
    aud: AUDIENCE,
    sub: "user-1",
    sid: "session-1",
    iat: nowSec,
    exp: nowSec + 600,
    roles: ["buyer"],
  };
}

export function nowSec(): number {
  return Math.floor(Date.now() / 1000);
}

/** Signs a token with `key` (an EdDSA private key by default; pass `alg` in the header for others). */
export async function signToken(
  key: CryptoKey | Uint8Array,
  kid: string,
  spec: TokenSpec = {},
): Promise<string> {
  const now = spec.nowSec ?? nowSec();
  const header = withoutUndefined({ alg: "EdDSA", kid, typ: SESSION_TOKEN_TYPE, ...spec.header });
  const claims = withoutUndefined({ ...validClaims(now), ...spec.claims });
  return new SignJWT(claims).setProtectedHeader(header as JWTHeaderParameters).sign(key);
}

/** Encodes a JSON value as a base64url segment. */
export function segment(value: unknown): string {
  return base64url.encode(JSON.stringify(value));
}

/** Replaces the payload of a signed token, keeping its header and signature. */
export function withPayload(token: string, payload: unknown): string {
  const [header, , signature] = token.split(".");
  return `${header}.${segment(payload)}.${signature}`;
}

/** Decodes the payload of a token (no verification). */
export function payloadOf(token: string): Record<string, unknown> {
  const part = token.split(".")[1] ?? "";
  return JSON.parse(new TextDecoder().decode(base64url.decode(part))) as Record<string, unknown>;
}

/** Flips one character in the middle of segment `index` (0 header, 1 payload, 2 signature). */
export function flipCharacter(token: string, index: 0 | 1 | 2): string {
  const parts = token.split(".");
  const part = parts[index] ?? "";
  const at = Math.floor(part.length / 2);
  const replacement = part[at] === "A" ? "B" : "A";
  parts[index] = part.slice(0, at) + replacement + part.slice(at + 1);
  return parts.join(".");
}
