import { loadEnv, subgraphEnv } from "@boxoffice/service-kit";
import { z } from "zod";

const jsonArray = z.string().transform((s, ctx) => {
  try {
    const parsed: unknown = JSON.parse(s);
    if (Array.isArray(parsed)) return parsed as Record<string, unknown>[];
  } catch {
    // reported below
  }
  ctx.addIssue({ code: "custom", message: "expected a JSON array of JWKs" });
  return z.NEVER;
});

/** Every subgraph's variables (service-kit's subgraph-env.ts), plus the issuer's own. */
const schema = subgraphEnv("accounts", {
  /** `iss` of session tokens; every subgraph's verifier expects the same value. */
  AUTH_ISSUER: z.string().min(1).default("boxoffice-accounts"),
  /** `aud` of session tokens. */
  AUTH_AUDIENCE: z.string().min(1).default("boxoffice"),
  /** The current Ed25519 private key as a JWK (JSON). Required in production; generated per start otherwise. */
  AUTH_SIGNING_KEY: z.string().optional(),
  /** Previous public keys (JSON array of JWKs) kept in the JWKS during rotation. */
  AUTH_PREVIOUS_PUBLIC_KEYS: jsonArray.optional(),
  /** Session lifetime in seconds (token `exp` and cookie `Max-Age`). */
  AUTH_SESSION_TTL_SECONDS: z.coerce.number().int().min(60).max(86_400).default(28_800),
  /**
   * Plain-http cookies (no `Secure`, no `__Host-` prefix) for local development over http. Refused in
   * production; defaults to on only when NODE_ENV=development.
   */
  AUTH_INSECURE_DEV_COOKIES: z.stringbool().optional(),
  /** Consecutive failed sign-ins per account and client address before each attempt must wait. */
  ACCOUNTS_SIGNIN_FREE_FAILURES: z.coerce.number().int().min(1).max(100).default(5),
  /** Longest wait between sign-in attempts after failures, in seconds (the doubling's cap). */
  ACCOUNTS_SIGNIN_MAX_DELAY_SECONDS: z.coerce.number().int().min(1).max(3600).default(900),
  /** Consecutive failed sign-ins on one account (every address) after which it is refused; NIST caps this at 100. */
  ACCOUNTS_SIGNIN_MAX_FAILURES: z.coerce.number().int().min(1).max(100).default(100),
  /** Failed sign-ins per client address per hour, across accounts (password spraying). */
  ACCOUNTS_SIGNIN_FAILURES_PER_ADDRESS: z.coerce.number().int().min(1).default(100),
  /** Sign-ups per client address per hour. */
  ACCOUNTS_SIGNUP_PER_ADDRESS: z.coerce.number().int().min(1).default(10),
}).superRefine((env, ctx) => {
  if (env.NODE_ENV === "production" && !env.AUTH_SIGNING_KEY) {
    ctx.addIssue({ code: "custom", path: ["AUTH_SIGNING_KEY"], message: "required in production" });
  }
});

export type AccountsEnv = z.infer<typeof schema>;

/** The accounts subgraph's validated configuration (the only reader of `process.env`). */
export function accountsEnv(source: NodeJS.ProcessEnv = process.env): AccountsEnv {
  return loadEnv(schema, source);
}
