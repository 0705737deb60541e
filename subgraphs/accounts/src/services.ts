import { randomUUID } from "node:crypto";
import {
  createSessionCookies,
  createSessionSigner,
  createVerifier,
  generateSigningKey,
  importSigningKey,
  type IssuedSessionToken,
  type SessionCookies,
  type SessionSigner,
  type Verifier,
} from "@boxoffice/auth-verify";
import {
  boxofficeRegistry,
  createPublisher,
  type BoxofficeEventDefinition,
  type EventRegistry,
} from "@boxoffice/events";
import { badUserInput, isUuid, type Logger } from "@boxoffice/service-kit";
import DataLoader from "dataloader";
import { GraphQLError } from "graphql";
import { checkNewPassword, hashPassword, normaliseEmail, verifyPassword } from "./credentials.ts";
import type { AuthThrottle } from "./auth-throttle.ts";
import type { PrismaClient } from "./db.ts";
import type { User } from "./generated/prisma/client.ts";

export const PRODUCER = "accounts";

/** A JSON Web Key as accepted by auth-verify's key import (RFC 7517). */
type JWK = Parameters<typeof importSigningKey>[0];

export interface AuthSettings {
  issuer: string;
  audience: string;
  /** Private JWK (JSON text) of the current signing key; undefined → a fresh key for this process. */
  signingKey?: string;
  previousPublicKeys?: JWK[];
  ttlSeconds: number;
  environment: "development" | "test" | "production";
  insecureDevCookies: boolean;
}

/** Everything a resolver of the accounts subgraph needs, built once per process. */
export interface AccountsServices {
  prisma: PrismaClient;
  signer: SessionSigner;
  cookies: SessionCookies;
  verifier: Verifier;
  logger: Logger;
  /**
   * Creates an account and signs in. `clientAddress` is throttled first (auth-throttle.ts).
   * @throws GraphQLError RATE_LIMITED (retryAfter), BAD_USER_INPUT.
   */
  signUp(
    input: { email: string; password: string },
    clientAddress?: string,
  ): Promise<{ user: User; issued: IssuedSessionToken }>;
  /**
   * Checks the password (argon2id) and starts a session; throttled per account and address first.
   * @throws GraphQLError RATE_LIMITED (retryAfter), UNAUTHENTICATED.
   */
  signIn(
    input: { email: string; password: string },
    clientAddress?: string,
  ): Promise<{ user: User; issued: IssuedSessionToken }>;
  /** Revokes the session and publishes `session.revoked`; false when it was already revoked. */
  signOut(sessionId: string, userId: string): Promise<boolean>;
  /** A DataLoader per request: batches `User` lookups by id into one query. */
  userLoader(): DataLoader<string, User | null>;
}

/** Is `error` Prisma's unique-constraint violation (P2002)? */
function isUniqueViolation(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === "P2002";
}

/**
 * Builds the accounts services. The signing key comes from `auth.signingKey`; without one (development
 * and tests only — env validation demands it in production) a fresh Ed25519 key is generated, so
 * sessions do not survive a restart of the accounts subgraph.
 */
export async function createAccountsServices(
  prisma: PrismaClient,
  auth: AuthSettings,
  logger: Logger,
  /** Where `user.*` and `session.*` events go (default `boxofficeRegistry`: the standard topics). */
  registry: EventRegistry<BoxofficeEventDefinition> = boxofficeRegistry,
  /** Sign-in/sign-up throttling (auth-throttle.ts); none in unit tests that do not exercise it. */
  throttle?: AuthThrottle,
): Promise<AccountsServices> {
  const publisher = createPublisher({ registry, producer: PRODUCER });
  const currentKey = auth.signingKey
    ? await importSigningKey(JSON.parse(auth.signingKey) as JWK)
    : await generateSigningKey();
  if (!auth.signingKey)
    logger.warn("AUTH_SIGNING_KEY not set: generated a signing key for this process only");
  const signer = createSessionSigner({
    issuer: auth.issuer,
    audience: auth.audience,
    currentKey,
    previousKeys: auth.previousPublicKeys ?? [],
    ttlSeconds: auth.ttlSeconds,
  });
  const cookies = createSessionCookies({
    environment: auth.environment,
    insecureDevelopmentMode: auth.insecureDevCookies,
  });
  // The accounts subgraph owns the sessions table, so its revocation check reads it directly.
  const verifier = createVerifier({
    issuer: auth.issuer,
    audience: auth.audience,
    keys: { jwks: signer.jwks() },
    cookies,
    maxSessionLifetimeSec: auth.ttlSeconds,
    isRevoked: async (sessionId) => {
      const session = await prisma.session.findUnique({
        where: { id: sessionId },
        select: { revokedAt: true },
      });
      return !session || session.revokedAt !== null;
    },
  });

  const startSession = async (user: User): Promise<IssuedSessionToken> => {
    const sessionId = randomUUID();
    const issued = await signer.issue({ userId: user.id, sessionId });
    await prisma.session.create({
      data: { id: sessionId, userId: user.id, expiresAt: new Date(issued.expiresAt * 1000) },
    });
    return issued;
  };

  return {
    prisma,
    signer,
    cookies,
    verifier,
    logger,
    async signUp(input, clientAddress = "unknown") {
      await throttle?.beforeSignUp(clientAddress);
      const email = normaliseEmail(input.email);
      checkNewPassword(input.password, email);
      const passwordHash = await hashPassword(input.password);
      const id = randomUUID();
      let user: User;
      try {
        user = await prisma.$transaction(async (tx) => {
          const created = await tx.user.create({ data: { id, email, passwordHash } });
          await publisher.publish(tx, {
            type: "user.registered",
            schemaVersion: 1,
            aggregateId: id,
            aggregateVersion: 1,
            data: { userId: id, email },
          });
          return created;
        });
      } catch (error) {
        if (isUniqueViolation(error)) {
          throw badUserInput("An account with this e-mail address already exists.", "input.email");
        }
        throw error;
      }
      return { user, issued: await startSession(user) };
    },
    async signIn(input, clientAddress = "unknown") {
      // The account key is what the client typed (trimmed, lower-cased), so unknown and malformed
      // addresses are throttled like real ones: the answer tells nothing about which exist.
      const account = input.email.trim().toLowerCase().slice(0, 320);
      await throttle?.beforeSignIn(account, clientAddress);
      let email: string | undefined;
      try {
        email = normaliseEmail(input.email);
      } catch {
        email = undefined; // same answer as an unknown address: no hint about what was wrong
      }
      const user = email ? await prisma.user.findUnique({ where: { email } }) : null;
      const ok = await verifyPassword(user?.passwordHash, input.password);
      // One message for an unknown e-mail and a wrong password: no account enumeration.
      if (!user || !ok) {
        await throttle?.signInFailed(account, clientAddress);
        throw new GraphQLError("Invalid e-mail or password.", { extensions: { code: "UNAUTHENTICATED" } });
      }
      await throttle?.signInSucceeded(account, clientAddress);
      return { user, issued: await startSession(user) };
    },
    async signOut(sessionId, userId) {
      return prisma.$transaction(async (tx) => {
        const revokedAt = new Date();
        const { count } = await tx.session.updateMany({
          where: { id: sessionId, userId, revokedAt: null },
          data: { revokedAt },
        });
        if (count === 0) return false;
        await publisher.publish(tx, {
          type: "session.revoked",
          schemaVersion: 1,
          aggregateId: sessionId,
          aggregateVersion: 1,
          data: { sessionId, userId, revokedAt: revokedAt.toISOString() },
        });
        return true;
      });
    },
    userLoader() {
      return new DataLoader<string, User | null>(async (ids) => {
        const valid = ids.filter(isUuid);
        const users = valid.length ? await prisma.user.findMany({ where: { id: { in: [...valid] } } }) : [];
        const byId = new Map(users.map((u) => [u.id, u]));
        return ids.map((id) => byId.get(id) ?? null);
      });
    },
  };
}
