-- @boxoffice/service-kit/signing-keys: the replica of the accounts subgraph's public signing keys
-- (schema version 1). Copy into a migration of the service's own PostgreSQL schema (search_path = that
-- schema), or let `prisma migrate dev` generate the same statements from prisma/signing-keys.prisma.
-- A row per key, written by the `<service>.signing-keys` consumer from `signing-key.published` /
-- `signing-key.retired` events (version-aware: 1 = published, 2 = retired); read into the verifier's
-- in-memory key set at start and whenever it changes.
CREATE TABLE IF NOT EXISTS "signing_keys" (
    "kid" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "status" TEXT NOT NULL,
    "public_jwk" JSONB NOT NULL,
    "published_at" TIMESTAMPTZ(6) NOT NULL,
    "retired_at" TIMESTAMPTZ(6),

    CONSTRAINT "signing_keys_pkey" PRIMARY KEY ("kid")
);
