/**
 * Throttling of signIn and signUp (rate-limiter-flexible over this subgraph's PostgreSQL schema, table
 * `rate_limits`: every accounts instance shares the counters, and PostgreSQL is already the store the
 * platform runs; no second store to operate). Rules, after NIST SP 800-63B §5.2.2 ("Rate Limiting
 * (Throttling)") and OWASP's Authentication Cheat Sheet ("Account lockout"):
 *
 * - Per account and client address: the first `freeFailures` consecutive failures cost nothing; after
 *   that each attempt from this address must wait 2^(n − free) s after the last failure, up to
 *   `maxDelaySeconds` (slowing down).
 * - Per account, from every address: from `accountFreeFailures` consecutive failures on, the same
 *   doubling wait applies to every address, and at `maxConsecutiveFailures` (at most 100, NIST's
 *   bound) sign-in is refused until the counter expires (`failureWindowSeconds` after its first
 *   failure). An address this account signed in from successfully in the last 30 days is exempt from
 *   the account-wide rule (its own per-address rule still applies): an attacker elsewhere cannot lock
 *   the owner out of a device they use.
 * - Per client address, across accounts: at most `failuresPerAddress` failures per hour (password
 *   spraying), then refused until the hour is over.
 * - signUp: at most `signUpsPerAddress` per client address per hour.
 * A success clears the account's and the pair's counters. Every check runs before argon2id, so a
 * refused attempt costs no hashing. Refusals are RATE_LIMITED with `extensions.retryAfter` seconds.
 */
import { createHash } from "node:crypto";
import { GraphQLError } from "graphql";
import pg from "pg";
import { RateLimiterPostgres, RateLimiterRes } from "rate-limiter-flexible";

export interface ThrottleSettings {
  /** Consecutive failures per account and address before slowing down (ACCOUNTS_SIGNIN_FREE_FAILURES, 5). */
  freeFailures: number;
  /** Consecutive failures per account (all addresses) before everyone slows down (20). */
  accountFreeFailures: number;
  /** Longest wait between attempts, seconds (ACCOUNTS_SIGNIN_MAX_DELAY_SECONDS, 900). */
  maxDelaySeconds: number;
  /** Consecutive failures per account after which sign-in is refused (ACCOUNTS_SIGNIN_MAX_FAILURES, 100). */
  maxConsecutiveFailures: number;
  /** Lifetime of a failure counter from its first failure, seconds (86 400). */
  failureWindowSeconds: number;
  /** Failed sign-ins per client address per hour (ACCOUNTS_SIGNIN_FAILURES_PER_ADDRESS, 100). */
  failuresPerAddress: number;
  /** Sign-ups per client address per hour (ACCOUNTS_SIGNUP_PER_ADDRESS, 10). */
  signUpsPerAddress: number;
}

export const DEFAULT_THROTTLE: ThrottleSettings = {
  freeFailures: 5,
  accountFreeFailures: 20,
  maxDelaySeconds: 900,
  maxConsecutiveFailures: 100,
  failureWindowSeconds: 86_400,
  failuresPerAddress: 100,
  signUpsPerAddress: 10,
};

const KNOWN_ADDRESS_SECONDS = 30 * 86_400;

/** `RATE_LIMITED` with `extensions.retryAfter` (whole seconds, at least 1). */
export function rateLimited(message: string, msBeforeNext: number): GraphQLError {
  return new GraphQLError(message, {
    extensions: { code: "RATE_LIMITED", retryAfter: Math.max(1, Math.ceil(msBeforeNext / 1000)) },
  });
}

export interface AuthThrottle {
  /**
   * Before checking a password.
   * @throws GraphQLError RATE_LIMITED when this attempt must wait or is refused.
   */
  beforeSignIn(account: string, address: string): Promise<void>;
  /** After a wrong password (or unknown account): counts it and sets the waits. */
  signInFailed(account: string, address: string): Promise<void>;
  /** After a correct password: clears the counters and remembers the address for this account. */
  signInSucceeded(account: string, address: string): Promise<void>;
  /**
   * Before creating an account (counts the attempt).
   * @throws GraphQLError RATE_LIMITED over `signUpsPerAddress` per hour.
   */
  beforeSignUp(address: string): Promise<void>;
  stop(): Promise<void>;
}

/** Account keys are hashed: fixed length for the table's key, and no e-mail address in it. */
function accountKey(account: string): string {
  return createHash("sha256").update(account.toLowerCase()).digest("base64url");
}

/** Wait after the n-th consecutive failure when `free` are free: 2^(n − free) s, capped. */
export function delaySeconds(failures: number, free: number, cap: number): number {
  if (failures <= free) return 0;
  return Math.min(cap, 2 ** Math.min(failures - free - 1, 30));
}

/**
 * Creates the throttle over `databaseUrl` (schema `schema`, whose migration created `rate_limits`).
 */
export function createAuthThrottle(
  databaseUrl: string,
  schema: string,
  settings: ThrottleSettings = DEFAULT_THROTTLE,
): AuthThrottle {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 5 });
  const limiter = (keyPrefix: string, points: number, duration: number) =>
    new RateLimiterPostgres({
      storeClient: pool,
      storeType: "pool",
      schemaName: schema,
      tableName: "rate_limits",
      tableCreated: true,
      clearExpiredByTimeout: keyPrefix === "signin_pair_fails",
      keyPrefix,
      points,
      duration,
    });
  const window = settings.failureWindowSeconds;
  // Counters: penalty() adds without refusing; the limit is checked explicitly.
  const pairFails = limiter("signin_pair_fails", Number.MAX_SAFE_INTEGER, window);
  const accountFails = limiter("signin_account_fails", Number.MAX_SAFE_INTEGER, window);
  const addressFails = limiter("signin_address_fails", settings.failuresPerAddress, 3600);
  // Waits: block(key, seconds) sets one; get() shows it while it lasts (consumed over points).
  const pairWait = limiter("signin_pair_wait", 1, 1);
  const accountWait = limiter("signin_account_wait", 1, 1);
  const known = limiter("signin_known_address", Number.MAX_SAFE_INTEGER, KNOWN_ADDRESS_SECONDS);
  const signUps = limiter("signup_address", settings.signUpsPerAddress, 3600);

  const waiting = async (wait: RateLimiterPostgres, key: string): Promise<number> => {
    const res = await wait.get(key);
    return res && res.consumedPoints > wait.points ? res.msBeforeNext : 0;
  };

  return {
    async beforeSignIn(account, address) {
      const acc = accountKey(account);
      const pair = `${acc}|${address}`;
      const byAddress = await addressFails.get(address);
      if (byAddress && byAddress.consumedPoints >= settings.failuresPerAddress) {
        throw rateLimited(
          "Too many failed sign-ins from this address; try again later.",
          byAddress.msBeforeNext,
        );
      }
      const pairMs = await waiting(pairWait, pair);
      if (pairMs > 0) throw rateLimited("Too many failed sign-ins; wait before trying again.", pairMs);
      if (await known.get(pair)) return;
      const accountMs = await waiting(accountWait, acc);
      if (accountMs > 0) throw rateLimited("Too many failed sign-ins; wait before trying again.", accountMs);
      const byAccount = await accountFails.get(acc);
      if (byAccount && byAccount.consumedPoints >= settings.maxConsecutiveFailures) {
        throw rateLimited(
          "Too many failed sign-ins for this account; try again later.",
          byAccount.msBeforeNext,
        );
      }
    },
    async signInFailed(account, address) {
      const acc = accountKey(account);
      const pair = `${acc}|${address}`;
      const [pairRes, accountRes] = await Promise.all([
        pairFails.penalty(pair, 1),
        accountFails.penalty(acc, 1),
        addressFails.penalty(address, 1),
      ]);
      const pairDelay = delaySeconds(pairRes.consumedPoints, settings.freeFailures, settings.maxDelaySeconds);
      const accountDelay = delaySeconds(
        accountRes.consumedPoints,
        settings.accountFreeFailures,
        settings.maxDelaySeconds,
      );
      if (pairDelay > 0) await pairWait.block(pair, pairDelay);
      if (accountDelay > 0) await accountWait.block(acc, accountDelay);
    },
    async signInSucceeded(account, address) {
      const acc = accountKey(account);
      const pair = `${acc}|${address}`;
      await Promise.all([
        pairFails.delete(pair),
        pairWait.delete(pair),
        accountFails.delete(acc),
        accountWait.delete(acc),
        known.set(pair, 1, KNOWN_ADDRESS_SECONDS),
      ]);
    },
    async beforeSignUp(address) {
      try {
        await signUps.consume(address, 1);
      } catch (rejection) {
        if (rejection instanceof RateLimiterRes) {
          throw rateLimited("Too many sign-ups from this address; try again later.", rejection.msBeforeNext);
        }
        throw rejection;
      }
    },
    stop: () => pool.end(),
  };
}
