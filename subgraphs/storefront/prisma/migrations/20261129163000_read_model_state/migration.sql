-- The read model's live consumer group and rebuild flag (one row; see src/events/read-model-state.ts).
CREATE TABLE "read_model_state" (
    "id" SMALLINT NOT NULL DEFAULT 1,
    "group_id" TEXT NOT NULL,
    "rebuilding" BOOLEAN NOT NULL DEFAULT false,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "read_model_state_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "read_model_state_one_row" CHECK ("id" = 1)
);
