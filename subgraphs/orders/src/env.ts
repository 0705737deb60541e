import { loadEnv, verifyingSubgraphEnv } from "@boxoffice/service-kit";
import { z } from "zod";

/** Every subgraph's variables and the session-verifying ones (service-kit's subgraph-env.ts), plus its own. */
const schema = verifyingSubgraphEnv("orders", {
  /** How long a PENDING order reserves its ticket before the expiration worker cancels it, in seconds (1 s to 24 h). */
  ORDER_EXPIRATION_SECONDS: z.coerce.number().int().min(1).max(86_400).default(900),
  /**
   * How long after `expiresAt` the expiration worker waits before cancelling, in seconds (0 to 10 min):
   * a payment the payments subgraph accepted before `expiresAt` (it stops accepting
   * PAYMENTS_EXPIRY_MARGIN_SECONDS before) has this long to reach orders and complete the order,
   * instead of arriving to a cancelled order and being refunded.
   */
  ORDER_EXPIRATION_GRACE_SECONDS: z.coerce.number().int().min(0).max(600).default(30),
  /** Most PENDING orders one buyer may hold at once (fair inventory; 1 to 1000). */
  ORDERS_MAX_PENDING_PER_BUYER: z.coerce.number().int().min(1).max(1000).default(3),
  /**
   * Seconds after a buyer's order is cancelled (by them or by expiry) before the same buyer may order
   * the same ticket again (0 to 1 day); stops cancel-then-reorder from holding a ticket forever.
   */
  ORDERS_REORDER_COOLDOWN_SECONDS: z.coerce.number().int().min(0).max(86_400).default(300),
  /** How often the expiration worker looks for due orders, in milliseconds (50 ms to 1 min). */
  ORDER_EXPIRATION_POLL_MS: z.coerce.number().int().min(50).max(60_000).default(1_000),
});

export type OrdersEnv = z.infer<typeof schema>;

/** The orders subgraph's validated configuration (the only reader of `process.env`). */
export function ordersEnv(source: NodeJS.ProcessEnv = process.env): OrdersEnv {
  return loadEnv(schema, source);
}
