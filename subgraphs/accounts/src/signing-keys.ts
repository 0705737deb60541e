/**
 * Publishes the accounts subgraph's public signing keys as events, so every verifying subgraph keeps
 * them in its own table and verifies sessions without ever calling accounts (packages/service-kit
 * signing-keys.ts is the other end).
 *
 * At every start the configured keys (`AUTH_SIGNING_KEY` + `AUTH_PREVIOUS_PUBLIC_KEYS`) are compared
 * with the `signing_keys` table, in one transaction under an advisory lock (replicas starting together
 * publish each change once):
 * - a configured key not in the table → `signing-key.published` (aggregate version 1);
 * - a published key no longer configured → `signing-key.retired` (version 2): verifiers refuse its
 *   tokens from then on. Only keys first published before this replica's current key are retired: a
 *   newer key belongs to a newer configuration being rolled out, and a replica still on the old
 *   configuration restarting mid-rollout must not retire it (it logs a warning instead).
 * A retired key never comes back (it may have been retired because it leaked): configuring it again
 * is a start-up error.
 */
import type { importSigningKey, SessionSigner } from "@boxoffice/auth-verify";
import type { BoxofficeEventDefinition, Publisher } from "@boxoffice/events";
import type { Logger } from "@boxoffice/service-kit";
import type { PrismaClient } from "./db.ts";

/** A JSON Web Key (RFC 7517), as auth-verify types it. */
type JWK = Parameters<typeof importSigningKey>[0];
type JSONWebKeySet = ReturnType<SessionSigner["jwks"]>;

/** A configured key that was retired earlier: the service refuses to start with it. */
export class RetiredSigningKeyError extends Error {
  override readonly name = "RetiredSigningKeyError";
}

/** What one start changed. */
export interface SigningKeyChanges {
  published: string[];
  retired: string[];
  /** Published keys absent from this configuration but newer than its current key: left alone. */
  keptNewer: string[];
}

// Any constant works: it only has to be the same for every accounts replica.
const LOCK_ID = 0x5e55_4b45; // "SESKE"

const ASYMMETRIC_KTYS = ["OKP", "EC", "RSA"] as const;
const isAsymmetricKty = (kty: unknown): kty is (typeof ASYMMETRIC_KTYS)[number] =>
  ASYMMETRIC_KTYS.some((known) => known === kty);

/** The contract's public JWK from a published one (public members only; jose types them all optional). */
function contractJwk(jwk: JWK, kid: string) {
  const kty = jwk.kty;
  if (!isAsymmetricKty(kty)) {
    throw new Error(`signing key ${kid}: kty ${String(kty)} cannot be published (asymmetric keys only)`);
  }
  const optional = (name: "alg" | "use" | "crv" | "x" | "y" | "n" | "e") =>
    typeof jwk[name] === "string" ? { [name]: jwk[name] } : {};
  return {
    kty,
    kid,
    ...optional("alg"),
    ...optional("use"),
    ...optional("crv"),
    ...optional("x"),
    ...optional("y"),
    ...optional("n"),
    ...optional("e"),
  };
}

/**
 * Brings the published key set in line with `jwks` (the signer's JWKS: current key first, then the
 * previous keys), writing the events to the outbox in the same transaction as the table.
 *
 * @returns the kids published, retired, and left alone.
 * @throws RetiredSigningKeyError when a configured key was retired before.
 */
export async function publishSigningKeys(
  prisma: PrismaClient,
  publisher: Publisher<BoxofficeEventDefinition>,
  jwks: JSONWebKeySet,
  logger: Logger,
): Promise<SigningKeyChanges> {
  const configured = jwks.keys.map((jwk) => {
    if (typeof jwk.kid !== "string" || jwk.kid === "") throw new Error("every signing key needs a kid");
    return { kid: jwk.kid, jwk: contractJwk(jwk, jwk.kid) };
  });
  const current = configured[0];
  if (current === undefined) throw new Error("the JWKS holds no key");
  const changes = await prisma.$transaction(async (tx) => {
    await tx.$executeRawUnsafe(`SELECT pg_advisory_xact_lock(${LOCK_ID})`);
    const rows = await tx.signingKey.findMany();
    const byKid = new Map(rows.map((row) => [row.kid, row]));
    const result: SigningKeyChanges = { published: [], retired: [], keptNewer: [] };
    const now = new Date();
    for (const { kid, jwk } of configured) {
      const row = byKid.get(kid);
      if (row?.status === "RETIRED") {
        throw new RetiredSigningKeyError(
          `signing key ${kid} was retired at ${row.retiredAt?.toISOString() ?? "?"}; a retired key is never published again — generate a new one`,
        );
      }
      if (row) continue;
      const data = { kid, publicJwk: jwk, status: "PUBLISHED" as const, publishedAt: now.toISOString() };
      await tx.signingKey.create({
        data: { kid, version: 1, status: "PUBLISHED", publicJwk: jwk, publishedAt: now },
      });
      await publisher.publish(tx, {
        type: "signing-key.published",
        schemaVersion: 1,
        aggregateId: kid,
        aggregateVersion: 1,
        data,
      });
      result.published.push(kid);
    }
    const configuredKids = new Set(configured.map((key) => key.kid));
    const currentPublishedAt = byKid.get(current.kid)?.publishedAt ?? now;
    for (const row of rows) {
      if (row.status !== "PUBLISHED" || configuredKids.has(row.kid)) continue;
      if (row.publishedAt > currentPublishedAt) {
        result.keptNewer.push(row.kid);
        continue;
      }
      const jwk = contractJwk(row.publicJwk as JWK, row.kid);
      await tx.signingKey.update({
        where: { kid: row.kid },
        data: { version: 2, status: "RETIRED", retiredAt: now },
      });
      await publisher.publish(tx, {
        type: "signing-key.retired",
        schemaVersion: 1,
        aggregateId: row.kid,
        aggregateVersion: 2,
        data: {
          kid: row.kid,
          publicJwk: jwk,
          status: "RETIRED",
          publishedAt: row.publishedAt.toISOString(),
          retiredAt: now.toISOString(),
        },
      });
      result.retired.push(row.kid);
    }
    return result;
  });
  if (changes.published.length > 0 || changes.retired.length > 0) {
    logger.info({ published: changes.published, retired: changes.retired }, "signing keys changed");
  }
  if (changes.keptNewer.length > 0) {
    logger.warn(
      { kids: changes.keptNewer },
      "published signing keys newer than this configuration's current key were left published: finish the rollout",
    );
  }
  return changes;
}
