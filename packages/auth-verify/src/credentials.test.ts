// Where the token comes from: cookie or bearer, precedence, duplicates, malformed headers.
import { beforeAll, describe, expect, it } from "vitest";
import { AUDIENCE, ISSUER, signToken } from "../test/support/tokens.ts";
import { AuthError, type AuthErrorReason } from "./auth-error.ts";
import { extractToken, type HeadersLike } from "./credentials.ts";
import { createSessionCookies, SESSION_COOKIE_NAME } from "./session-cookies.ts";
import { generateSigningKey, type SigningKey } from "./session-signer.ts";
import { createVerifier, type Verifier } from "./verifier.ts";

let key: SigningKey;
let verifier: Verifier;
let token: string;
let otherToken: string;

const C = SESSION_COOKIE_NAME;

async function reasonOf(promise: Promise<unknown>): Promise<AuthErrorReason> {
  const error: unknown = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof AuthError)) throw new Error(`expected an AuthError, got ${String(error)}`);
  return error.reason;
}

function request(headers: HeadersLike) {
  return { headers };
}

beforeAll(async () => {
  key = await generateSigningKey();
  verifier = createVerifier({
    issuer: ISSUER,
    audience: AUDIENCE,
    keys: { jwks: { keys: [{ ...key.publicJwk }] } },
  });
  token = await signToken(key.privateKey, key.kid, { claims: { sub: "web-user" } });
  otherToken = await signToken(key.privateKey, key.kid, { claims: { sub: "other-user" } });
});

describe("accepted credentials", () => {
  it("a valid session cookie among other cookies", async () => {
    const result = await verifier.authenticate(request({ cookie: `theme=dark; ${C}=${token}; _ga=GA1.2.3` }));
    expect(result).toMatchObject({ kind: "user", principal: { userId: "web-user" } });
  });

  it("a valid bearer token, scheme case-insensitive", async () => {
    for (const authorization of [`Bearer ${token}`, `bearer ${token}`, `BEARER   ${token} `]) {
      const result = await verifier.authenticate(request({ authorization }));
      expect(result).toMatchObject({ kind: "user", principal: { userId: "web-user" } });
    }
  });

  it("the same token in cookie and bearer", async () => {
    const result = await verifier.authenticate(
      request({ authorization: `Bearer ${token}`, cookie: `${C}=${token}` }),
    );
    expect(result).toMatchObject({ kind: "user" });
  });

  it("from a Fetch Headers, a Map-like HeaderMap, and a record with odd key case", async () => {
    const shapes: HeadersLike[] = [
      new Headers({ Cookie: `${C}=${token}` }),
      new Map([["authorization", `Bearer ${token}`]]),
      { Authorization: `Bearer ${token}` },
      { cookie: ["a=b", `${C}=${token}`] },
    ];
    for (const headers of shapes) {
      await expect(verifier.authenticate(request(headers))).resolves.toMatchObject({ kind: "user" });
    }
  });

  it("reads the development cookie name only when the verifier is given the development policy", async () => {
    const cookies = createSessionCookies({ environment: "development", insecureDevelopmentMode: true });
    const devVerifier = createVerifier({
      issuer: ISSUER,
      audience: AUDIENCE,
      keys: { jwks: { keys: [{ ...key.publicJwk }] } },
      cookies,
    });
    const header = { cookie: `boxoffice_session=${token}` };
    await expect(devVerifier.authenticate(request(header))).resolves.toMatchObject({ kind: "user" });
    await expect(verifier.authenticate(request(header))).resolves.toEqual({ kind: "anonymous" });
  });
});

describe("anonymous", () => {
  it.each<[string, HeadersLike]>([
    ["no headers", {}],
    ["other cookies only", { cookie: "theme=dark; boxoffice_session_hint=1" }],
    ["an empty session cookie", { cookie: `${C}=` }],
    ["another Authorization scheme", { authorization: "Basic dXNlcjpwYXNz" }],
    ["an empty Authorization header", { authorization: "" }],
    ["a malformed cookie that is not ours", { cookie: `broken; "quoted; =novalue; x=%E0%A4%A` }],
  ])("%s", async (_label, headers) => {
    await expect(verifier.authenticate(request(headers))).resolves.toEqual({ kind: "anonymous" });
  });
});

describe("rejected credentials", () => {
  it("two cookies with the session name (cookie tossing), even if one is valid", async () => {
    for (const cookie of [`${C}=${token}; ${C}=${otherToken}`, `${C}=${token}; theme=x; ${C}=${token}`]) {
      expect(await reasonOf(verifier.authenticate(request({ cookie })))).toBe("AMBIGUOUS_CREDENTIALS");
    }
  });

  it("cookie and bearer that carry different tokens", async () => {
    const headers = { authorization: `Bearer ${otherToken}`, cookie: `${C}=${token}` };
    expect(await reasonOf(verifier.authenticate(request(headers)))).toBe("AMBIGUOUS_CREDENTIALS");
  });

  it("several Authorization headers", async () => {
    const headers = { authorization: [`Bearer ${token}`, `Bearer ${otherToken}`] };
    expect(await reasonOf(verifier.authenticate(request(headers)))).toBe("AMBIGUOUS_CREDENTIALS");
  });

  // Built from the token lazily: it.each tables are evaluated before beforeAll runs.
  it.each<[string, (valid: string) => string]>([
    ["session cookie without '='", () => `theme=dark; ${C}`],
    ["session cookie with a quoted value", (valid) => `${C}="${valid}"`],
    ["session cookie percent-encoded", (valid) => `${C}=${valid.replace(".", "%2E")}`],
    ["session cookie with spaces inside", () => `${C}=abc def.ghi.jkl`],
    ["control characters in the Cookie header", (valid) => `${C}=${valid}\u0000; theme=dark`],
    ["a newline smuggled into the Cookie header", (valid) => `theme=dark\r\n${C}=${valid}`],
  ])("a malformed cookie header: %s", async (_label, cookieFor) => {
    const cookie = cookieFor(token);
    expect(await reasonOf(verifier.authenticate(request({ cookie })))).toBe("MALFORMED");
  });

  it.each([["Bearer"], ["Bearer "], ["Bearer a b"], [`Bearer ${"x".repeat(20)},Bearer y`]])(
    "a malformed Authorization header %j",
    async (authorization) => {
      expect(await reasonOf(verifier.authenticate(request({ authorization })))).toBe("MALFORMED");
    },
  );

  it("an oversized token in either place, before it is parsed", async () => {
    const huge = `${"a".repeat(5000)}.${"b".repeat(5000)}.c`;
    expect(await reasonOf(verifier.authenticate(request({ authorization: `Bearer ${huge}` })))).toBe(
      "TOKEN_TOO_LARGE",
    );
    expect(await reasonOf(verifier.authenticate(request({ cookie: `${C}=${huge}` })))).toBe(
      "TOKEN_TOO_LARGE",
    );
  });

  it("an invalid token in the cookie is an error, not anonymous", async () => {
    const expired = await signToken(key.privateKey, key.kid, { claims: { exp: 1 } });
    expect(await reasonOf(verifier.authenticate(request({ cookie: `${C}=${expired}` })))).toBe(
      "TOKEN_EXPIRED",
    );
  });
});

describe("extractToken", () => {
  it("returns the raw token, or undefined without credentials", () => {
    expect(extractToken(request({ cookie: `${C}=a.b.c` }), C)).toBe("a.b.c");
    expect(extractToken(request({ authorization: "Bearer a.b.c" }), C)).toBe("a.b.c");
    expect(extractToken(request({}), C)).toBeUndefined();
  });
});
