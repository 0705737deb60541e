-- @boxoffice/service-kit/denylist: the local session denylist (schema version 1).
-- Copy into a migration of the service's own PostgreSQL schema (search_path = that schema), or let
-- `prisma migrate dev` generate the same statements from prisma/revoked-sessions.prisma.
-- A row per revoked session, written by the `<service>.session-denylist` consumer from
-- `session.revoked` events; read by the verifier's `isRevoked` hook on every authenticated request.
CREATE TABLE IF NOT EXISTS "revoked_sessions" (
    "session_id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "revoked_at" TIMESTAMPTZ(6) NOT NULL,

    CONSTRAINT "revoked_sessions_pkey" PRIMARY KEY ("session_id")
);

-- Pruning deletes rows whose tokens have certainly expired (revoked_at older than the longest
-- session lifetime).
CREATE INDEX IF NOT EXISTS "revoked_sessions_revoked_at_idx" ON "revoked_sessions"("revoked_at");
