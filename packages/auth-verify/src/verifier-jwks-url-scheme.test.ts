// Which JWKS URLs a verifier accepts at construction: https anywhere, plain http only on loopback
// unless the caller opts in (a private service network such as compose's, where the host is a
// service name). The opt-in is what the subgraphs' AUTH_JWKS_ALLOW_INSECURE_HTTP sets.
import { describe, expect, it } from "vitest";
import { AUDIENCE, ISSUER } from "../test/support/tokens.ts";
import { AuthConfigError } from "./auth-error.ts";
import { createVerifier } from "./verifier.ts";

const build = (jwksUrl: string, allowInsecureHttp?: boolean) => () =>
  createVerifier({ issuer: ISSUER, audience: AUDIENCE, keys: { jwksUrl, allowInsecureHttp } });

describe("JWKS URL scheme rule", () => {
  it.each([
    "https://accounts.example.com/.well-known/jwks.json",
    "http://127.0.0.1:4001/.well-known/jwks.json",
    "http://127.0.0.42:4001/.well-known/jwks.json",
    "http://localhost:4001/.well-known/jwks.json",
    "http://[::1]:4001/.well-known/jwks.json",
  ])("accepts %s by default", (url) => {
    expect(build(url)).not.toThrow();
  });

  it.each([
    "http://accounts:4001/.well-known/jwks.json",
    "http://10.0.0.5:4001/.well-known/jwks.json",
    "http://127.0.0.1.attacker.example/.well-known/jwks.json",
    "ftp://127.0.0.1/jwks.json",
  ])("refuses %s by default", (url) => {
    expect(build(url)).toThrow(AuthConfigError);
  });

  it("accepts plain http to a service name only with the explicit opt-in", () => {
    const url = "http://accounts:4001/.well-known/jwks.json";
    expect(build(url, false)).toThrow(/must be https/);
    expect(build(url, true)).not.toThrow();
  });

  it("the opt-in allows plain http, not any other scheme", () => {
    expect(build("ftp://accounts/jwks.json", true)).toThrow(AuthConfigError);
  });
});
