import { serialize } from "cookie";
import { AuthConfigError } from "./auth-error.ts";

/** Production session cookie name. The `__Host-` prefix makes browsers refuse it unless it is `Secure`,
 * has `Path=/` and no `Domain`, so a sibling subdomain cannot set or shadow it (RFC 6265bis §4.1.3.2). */
export const SESSION_COOKIE_NAME = "__Host-boxoffice_session";

/** Session cookie name in explicit insecure development mode (plain http, no `__Host-` prefix). */
export const DEV_SESSION_COOKIE_NAME = "boxoffice_session";

/** Where the service runs. Only used to forbid the insecure development mode in production. */
export type DeploymentEnvironment = "production" | "development" | "test";

const DEPLOYMENT_ENVIRONMENTS: ReadonlySet<string> = new Set<DeploymentEnvironment>([
  "production",
  "development",
  "test",
]);

/** Options of {@link createSessionCookies}. */
export interface SessionCookieOptions {
  /** Required so nobody gets the insecure mode by forgetting to say where they run. */
  readonly environment: DeploymentEnvironment;
  /**
   * `true` drops `Secure` and the `__Host-` prefix so the cookie works over plain `http://localhost`.
   * Default `false`. Refused when `environment` is `"production"`.
   */
  readonly insecureDevelopmentMode?: boolean;
  /**
   * Cookie name. Default {@link SESSION_COOKIE_NAME}, or {@link DEV_SESSION_COOKIE_NAME} in insecure mode.
   * Must start with `__Host-` unless in insecure mode, and must not in insecure mode (browsers drop a
   * `__Host-` cookie without `Secure`).
   */
  readonly name?: string;
}

/** The session token fields the cookie needs. `IssuedSessionToken` from the signer fits. */
export interface SessionTokenForCookie {
  /** The compact JWS. */
  readonly token: string;
  /** Token `exp`, seconds since the Unix epoch. */
  readonly expiresAt: number;
}

/** Session cookie policy: its name (read by the verifier) and its `Set-Cookie` values (accounts). */
export interface SessionCookies {
  /** Cookie name the verifier reads and the accounts subgraph sets. */
  readonly name: string;
  /** Whether this is the explicit plain-http development mode. */
  readonly insecureDevelopmentMode: boolean;
  /**
   * `Set-Cookie` header value carrying the session token:
   * `HttpOnly; Secure; SameSite=Lax; Path=/; Max-Age=<exp - now>`, no `Domain` (RFC 6265 §4.1.2;
   * OWASP Session Management Cheat Sheet). `Max-Age` is the token's remaining life in whole seconds,
   * so the browser drops the cookie when the token expires; 0 for an already-expired token.
   * @param nowMs current time in ms since the Unix epoch; default `Date.now()`.
   * @throws TypeError if the token contains characters not allowed in a cookie value.
   */
  serialize(session: SessionTokenForCookie, nowMs?: number): string;
  /** `Set-Cookie` header value that deletes the session cookie (sign-out): empty value, `Max-Age=0`,
   * the same `Path`/`Secure` attributes so the browser matches and removes the same cookie. */
  clear(): string;
}

/**
 * Builds the session cookie policy shared by the accounts subgraph (which sets the cookie) and every
 * verifier (which reads it).
 *
 * @throws AuthConfigError when `environment` is not one of the three values, when
 *   `insecureDevelopmentMode` is asked for in production, when the name's
 *   `__Host-` prefix does not match the mode, or when the name is not a valid cookie name (RFC 6265 §4.1.1).
 */
export function createSessionCookies(options: SessionCookieOptions): SessionCookies {
  // Checked at run time too: the value usually comes from NODE_ENV, and "Production", "prod", "staging"
  // or a missing variable must not slip past the production check below into insecure mode.
  if (!DEPLOYMENT_ENVIRONMENTS.has(options.environment)) {
    throw new AuthConfigError(
      `environment must be one of ${[...DEPLOYMENT_ENVIRONMENTS].join(", ")}, got ${String(options.environment)}`,
    );
  }
  const insecure = options.insecureDevelopmentMode === true;
  if (insecure && options.environment === "production") {
    throw new AuthConfigError(
      "insecureDevelopmentMode cannot be used in production: session cookies must be Secure and __Host-",
    );
  }
  const name = options.name ?? (insecure ? DEV_SESSION_COOKIE_NAME : SESSION_COOKIE_NAME);
  const hostPrefixed = name.startsWith("__Host-");
  if (!insecure && !hostPrefixed) {
    throw new AuthConfigError(
      `session cookie name "${name}" must start with "__Host-" (or set insecureDevelopmentMode outside production)`,
    );
  }
  if (insecure && hostPrefixed) {
    throw new AuthConfigError(
      `"${name}": browsers reject __Host- cookies without Secure; pick another name for insecure development mode`,
    );
  }
  const attributes = {
    httpOnly: true,
    secure: !insecure,
    sameSite: "lax",
    path: "/",
  } as const;
  try {
    serialize(name, "probe", attributes);
  } catch (error) {
    throw new AuthConfigError(`invalid session cookie name "${name}"`, { cause: error });
  }
  return Object.freeze({
    name,
    insecureDevelopmentMode: insecure,
    serialize(session: SessionTokenForCookie, nowMs: number = Date.now()): string {
      const maxAge = Math.max(0, Math.floor(session.expiresAt - nowMs / 1000));
      // Identity encoding: a compact JWS is already cookie-safe; percent-encoding would only hide
      // a wrong input, which cookie.serialize then reports as a TypeError.
      return serialize(name, session.token, { ...attributes, maxAge, encode: (value) => value });
    },
    clear(): string {
      return serialize(name, "", { ...attributes, maxAge: 0, expires: new Date(0) });
    },
  });
}
