-- The replica of the accounts subgraph's public signing keys (@boxoffice/service-kit/signing-keys,
-- packages/service-kit/sql/signing-keys.sql), fed by `signing-key.*` events: sessions are verified
-- from it, so they keep working while accounts is down, and after this subgraph restarts.
CREATE TABLE "signing_keys" (
    "kid" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "status" TEXT NOT NULL,
    "public_jwk" JSONB NOT NULL,
    "published_at" TIMESTAMPTZ(6) NOT NULL,
    "retired_at" TIMESTAMPTZ(6),

    CONSTRAINT "signing_keys_pkey" PRIMARY KEY ("kid")
);
