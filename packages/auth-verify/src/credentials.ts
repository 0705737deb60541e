import { parse } from "cookie";
import { AuthError, MAX_TOKEN_LENGTH } from "./auth-error.ts";

/** A header container with a case-insensitive getter: Fetch `Headers`, Apollo Server's `HeaderMap`. */
export interface HeaderGetter {
  get(name: string): string | null | undefined;
}

/**
 * A plain header record, like Node's `IncomingMessage.headers` (lower-case keys; repeated headers as
 * arrays). Keys are matched case-insensitively.
 */
export type HeaderRecord = Readonly<Record<string, string | readonly string[] | undefined>>;

/** Request headers in any of the shapes subgraph servers hand out. */
export type HeadersLike = HeaderGetter | HeaderRecord;

/**
 * The least a request must offer: its headers. Node's `IncomingMessage` (Apollo standalone and
 * Express), a Fetch `Request`, and `{ headers: HeaderMap }` all fit.
 */
export interface RequestLike {
  readonly headers: HeadersLike;
}

// RFC 7515 §7.1 compact serialization: three base64url segments (RFC 7515 §2: no padding). The
// signature may be empty here so that an unsecured JWT (RFC 7519 §6) is refused as ALG_NOT_ALLOWED.
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
// RFC 6750 §2.1 (scheme case-insensitive per RFC 9110 §11.1); one token, b64token charset.
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;
// CTLs (except HTAB) cannot appear in a field value (RFC 9110 §5.5); Node's parser already refuses
// them, but other header sources may not.
function hasControlCharacters(value: string): boolean {
  for (let index = 0; index < value.length; index += 1) {
    const code = value.charCodeAt(index);
    if ((code < 0x20 && code !== 0x09) || code === 0x7f) return true;
  }
  return false;
}

/** Whether a string has the shape of a compact JWS (does not decode anything). */
export function isCompactJws(token: string): boolean {
  return COMPACT_JWS.test(token);
}

function readHeader(headers: HeadersLike, name: string): string | readonly string[] | undefined {
  if (typeof headers.get === "function") {
    return (headers as HeaderGetter).get(name) ?? undefined;
  }
  const record = headers as HeaderRecord;
  const direct = record[name];
  if (direct !== undefined) return direct;
  for (const key of Object.keys(record)) {
    if (key.toLowerCase() === name) return record[key];
  }
  return undefined;
}

function bearerToken(headers: HeadersLike): string | undefined {
  const raw = readHeader(headers, "authorization");
  if (raw === undefined) return undefined;
  if (typeof raw !== "string") {
    if (raw.length > 1) {
      throw new AuthError("AMBIGUOUS_CREDENTIALS", "more than one Authorization header");
    }
    return raw[0] === undefined ? undefined : bearerFromValue(raw[0]);
  }
  return bearerFromValue(raw);
}

function bearerFromValue(value: string): string | undefined {
  const trimmed = value.trim();
  if (trimmed === "") return undefined;
  // Another scheme (Basic, a proxy's own) is not ours to judge: the request has no bearer token.
  if (!/^bearer(\s|$)/i.test(trimmed)) return undefined;
  // Bounded before the regex so a huge header costs one length check.
  if (trimmed.length > MAX_TOKEN_LENGTH + 16) {
    throw new AuthError("TOKEN_TOO_LARGE", "bearer token is over the size limit");
  }
  const match = BEARER.exec(trimmed);
  if (match?.[1] === undefined) {
    throw new AuthError("MALFORMED", "Authorization header is not 'Bearer <token>'");
  }
  return match[1];
}

function cookieToken(headers: HeadersLike, cookieName: string): string | undefined {
  const raw = readHeader(headers, "cookie");
  if (raw === undefined) return undefined;
  // HTTP/2 may split cookies over several header fields; they are joined with "; " (RFC 9113 §8.2.3).
  const header = typeof raw === "string" ? raw : raw.join("; ");
  if (!header.includes(cookieName)) return undefined;
  if (hasControlCharacters(header)) {
    throw new AuthError("MALFORMED", "Cookie header contains control characters");
  }
  // Pairs are ';'-separated (RFC 6265 §4.2.1) and cookie values cannot contain ';', so parsing each
  // pair on its own with the `cookie` library sees exactly what parsing the whole header sees, and
  // also lets us notice a name that appears twice, which `parse` would silently collapse to the first.
  const values: string[] = [];
  for (const pair of header.split(";")) {
    if (!pair.includes(cookieName)) continue;
    const parsed = parse(pair, { decode: (value) => value });
    const value = parsed[cookieName];
    if (value !== undefined) {
      values.push(value);
    } else if (pair.trim() === cookieName) {
      throw new AuthError("MALFORMED", "session cookie has no value");
    }
  }
  if (values.length > 1) {
    // RFC 6265 §5.4 lets a browser send two cookies of the same name (different Path/Domain) with no
    // rule for which one the server should use, and a sibling subdomain can plant one ("cookie
    // tossing", OWASP Testing Guide WSTG-SESS-02). Picking either could log the user in as the attacker.
    throw new AuthError("AMBIGUOUS_CREDENTIALS", "session cookie appears more than once");
  }
  const value = values[0];
  if (value === undefined || value === "") return undefined;
  if (value.length > MAX_TOKEN_LENGTH) {
    throw new AuthError("TOKEN_TOO_LARGE", "session cookie is over the size limit");
  }
  if (!isCompactJws(value)) {
    throw new AuthError("MALFORMED", "session cookie is not a compact JWS");
  }
  return value;
}

/**
 * Finds the session token of a request.
 *
 * Sources: the `Authorization: Bearer <token>` header (RFC 6750 §2.1; other schemes are ignored) and
 * the session cookie named `cookieName` (parsed with the `cookie` library; other cookies are ignored,
 * even malformed ones, since they belong to other applications on the site).
 *
 * Precedence when both are present: they must carry the same token, otherwise the request is refused
 * with `AMBIGUOUS_CREDENTIALS`. A browser always attaches its cookie and a mobile client has none, so
 * two different tokens mean a confused client or an attempt to act as someone else; silently preferring
 * one would let the request run under an identity the user did not choose.
 *
 * @returns the token, or `undefined` when the request carries no credential (anonymous). An empty
 *   session cookie value counts as no credential.
 * @throws AuthError `MALFORMED` (bad `Authorization` value, session cookie without `=` or outside the
 *   compact JWS alphabet, control characters in the `Cookie` header), `AMBIGUOUS_CREDENTIALS`
 *   (duplicate session cookie, several `Authorization` headers, cookie and bearer differ),
 *   `TOKEN_TOO_LARGE`.
 */
export function extractToken(request: RequestLike, cookieName: string): string | undefined {
  const bearer = bearerToken(request.headers);
  const cookie = cookieToken(request.headers, cookieName);
  if (bearer !== undefined && cookie !== undefined && bearer !== cookie) {
    throw new AuthError("AMBIGUOUS_CREDENTIALS", "cookie and bearer token differ");
  }
  return bearer ?? cookie;
}
