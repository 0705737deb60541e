import { loadEnv, verifyingSubgraphEnv } from "@boxoffice/service-kit";
import { z } from "zod";

/** Every subgraph's variables and the session-verifying ones (service-kit's subgraph-env.ts), plus its own. */
const schema = verifyingSubgraphEnv("payments", {
  /**
   * The payment provider. Only the built-in deterministic `sandbox` exists (src/providers/sandbox.ts);
   * it never moves money, so it is refused in production.
   */
  PAYMENTS_PROVIDER: z.enum(["sandbox"]).default("sandbox"),
  /** Refund worker poll interval when idle, ms (src/refund.worker.ts). */
  PAYMENTS_REFUND_POLL_MS: z.coerce.number().int().min(10).max(60_000).default(1000),
  /**
   * payForOrder refuses an order this many seconds before its `expiresAt` (ORDER_EXPIRED), so a capture
   * lands before the order expires (the orders subgraph waits ORDER_EXPIRATION_GRACE_SECONDS after).
   */
  PAYMENTS_EXPIRY_MARGIN_SECONDS: z.coerce.number().int().min(0).max(300).default(5),
  /** Reconciliation worker poll interval when idle, ms (src/reconciliation.worker.ts). */
  PAYMENTS_RECONCILE_POLL_MS: z.coerce.number().int().min(10).max(600_000).default(10_000),
  /**
   * A payment PENDING and untouched this long (no client retry) is settled from the provider's
   * answer, or closed as `abandoned`. Must exceed the 30 s attempt lease.
   */
  PAYMENTS_ABANDON_AFTER_SECONDS: z.coerce.number().int().min(31).max(86_400).default(300),
}).superRefine((env, ctx) => {
  if (env.NODE_ENV === "production" && env.PAYMENTS_PROVIDER === "sandbox") {
    ctx.addIssue({
      code: "custom",
      path: ["PAYMENTS_PROVIDER"],
      message: "the sandbox provider takes no real money and is not allowed in production",
    });
  }
});

export type PaymentsEnv = z.infer<typeof schema>;

/** The payments subgraph's validated configuration (the only reader of `process.env`). */
export function paymentsEnv(source: NodeJS.ProcessEnv = process.env): PaymentsEnv {
  return loadEnv(schema, source);
}
