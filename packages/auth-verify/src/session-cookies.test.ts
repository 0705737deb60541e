import { parseSetCookie } from "cookie";
import { describe, expect, it } from "vitest";
import { AuthConfigError } from "./auth-error.ts";
import { createSessionCookies, DEV_SESSION_COOKIE_NAME, SESSION_COOKIE_NAME } from "./session-cookies.ts";

const NOW_MS = Date.UTC(2030, 0, 1);
const session = { token: "aaa.bbb.ccc", expiresAt: NOW_MS / 1000 + 3600 };

describe("session cookies", () => {
  it("production: __Host- name, HttpOnly, Secure, SameSite=Lax, Path=/, no Domain, Max-Age = token life", () => {
    const cookies = createSessionCookies({ environment: "production" });
    const header = cookies.serialize(session, NOW_MS);
    expect(header).toBe(
      `${SESSION_COOKIE_NAME}=aaa.bbb.ccc; Max-Age=3600; Path=/; HttpOnly; Secure; SameSite=Lax`,
    );
    const parsed = parseSetCookie(header);
    expect(parsed).toMatchObject({ name: "__Host-boxoffice_session", value: "aaa.bbb.ccc", maxAge: 3600 });
    expect(parsed.domain).toBeUndefined();
  });

  it("Max-Age follows the remaining token life and never goes negative", () => {
    const cookies = createSessionCookies({ environment: "production" });
    expect(cookies.serialize(session, NOW_MS + 600_000)).toContain("Max-Age=3000;");
    expect(cookies.serialize(session, NOW_MS + 7_200_000)).toContain("Max-Age=0;");
  });

  it("clear() deletes the same cookie for sign-out", () => {
    const cookies = createSessionCookies({ environment: "production" });
    expect(cookies.clear()).toBe(
      `${SESSION_COOKIE_NAME}=; Max-Age=0; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=Lax`,
    );
  });

  it("secure is the default everywhere: development without the explicit flag is still __Host- and Secure", () => {
    const cookies = createSessionCookies({ environment: "development" });
    expect(cookies.name).toBe(SESSION_COOKIE_NAME);
    expect(cookies.serialize(session, NOW_MS)).toContain("; Secure");
  });

  it("explicit insecure development mode: plain name, no Secure, still HttpOnly and SameSite=Lax", () => {
    const cookies = createSessionCookies({ environment: "development", insecureDevelopmentMode: true });
    expect(cookies.name).toBe(DEV_SESSION_COOKIE_NAME);
    expect(cookies.insecureDevelopmentMode).toBe(true);
    expect(cookies.serialize(session, NOW_MS)).toBe(
      "boxoffice_session=aaa.bbb.ccc; Max-Age=3600; Path=/; HttpOnly; SameSite=Lax",
    );
  });

  it("refuses insecure mode in production", () => {
    expect(() => createSessionCookies({ environment: "production", insecureDevelopmentMode: true })).toThrow(
      AuthConfigError,
    );
  });

  it.each(["Production", "prod", "staging", "", undefined])(
    "refuses an environment that is not production, development or test (%j), so a NODE_ENV typo cannot enable insecure mode",
    (environment) => {
      // As it arrives from an unchecked NODE_ENV: the type says three values, the runtime must agree.
      const options = { environment: environment as never, insecureDevelopmentMode: true };
      expect(() => createSessionCookies(options)).toThrow(AuthConfigError);
    },
  );

  it("refuses names that do not match the mode, and invalid names", () => {
    expect(() => createSessionCookies({ environment: "production", name: "session" })).toThrow(
      AuthConfigError,
    );
    expect(() =>
      createSessionCookies({ environment: "test", insecureDevelopmentMode: true, name: "__Host-dev" }),
    ).toThrow(AuthConfigError);
    expect(() => createSessionCookies({ environment: "production", name: "__Host-a;b" })).toThrow(
      AuthConfigError,
    );
    expect(createSessionCookies({ environment: "production", name: "__Host-custom" }).name).toBe(
      "__Host-custom",
    );
  });

  it("refuses a value that is not cookie-safe instead of encoding it", () => {
    const cookies = createSessionCookies({ environment: "production" });
    expect(() => cookies.serialize({ token: "a;b", expiresAt: session.expiresAt }, NOW_MS)).toThrow(
      TypeError,
    );
  });
});
