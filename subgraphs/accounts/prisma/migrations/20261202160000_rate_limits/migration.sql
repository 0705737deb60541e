-- Counters of rate-limiter-flexible's PostgreSQL store (sign-in throttling, sign-up per address),
-- in the library's own layout (it reads and upserts this table; `expire` is ms since the epoch).
CREATE TABLE "rate_limits" (
    "key" VARCHAR(255) NOT NULL,
    "points" INTEGER NOT NULL DEFAULT 0,
    "expire" BIGINT,

    CONSTRAINT "rate_limits_pkey" PRIMARY KEY ("key")
);
