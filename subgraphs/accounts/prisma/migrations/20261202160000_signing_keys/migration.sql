-- The public signing keys accounts has published as `signing-key.*` events (src/signing-keys.ts):
-- compared with the configured keys at every start, so a change (new current key, a previous key
-- dropped) is published exactly once. Same shape as the verifying subgraphs' replica table.
CREATE TABLE "signing_keys" (
    "kid" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "status" TEXT NOT NULL,
    "public_jwk" JSONB NOT NULL,
    "published_at" TIMESTAMPTZ(6) NOT NULL,
    "retired_at" TIMESTAMPTZ(6),

    CONSTRAINT "signing_keys_pkey" PRIMARY KEY ("kid")
);
