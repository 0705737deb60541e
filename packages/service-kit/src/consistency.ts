/**
 * Read-your-writes at the GraphQL edge: a query argument carrying a consistency token (the
 * `consistencyToken` of a mutation's answer) is validated and waited for here, with the typed errors
 * of CONVENTIONS.md ("Errors"). The waiting itself is @boxoffice/events' `ReadYourWrites`.
 */
import {
  decodeConsistencyToken,
  encodeConsistencyToken,
  type ConsistencyToken,
  type ReadYourWrites,
} from "@boxoffice/events";
import { badUserInput, notYetReplicated } from "./errors.ts";

/**
 * Waits until the read models of this service reflect the writes named by `raw`, bounded by the
 * service's `ReadYourWrites` timeout (default 2 000 ms). Returns at once when `raw` is null or
 * undefined (the argument was not given).
 *
 * @param field the argument's name, reported in `extensions.field` (default `waitFor`).
 * @throws GraphQLError BAD_USER_INPUT (`extensions.field`) when `raw` is not a token this API issued;
 *   SERVICE_UNAVAILABLE `retryable: true`, `reason: NOT_YET_REPLICATED` when the bound passed first
 *   (nothing was read: repeat the request).
 */
export async function awaitConsistency(
  readYourWrites: ReadYourWrites,
  raw: unknown,
  field = "waitFor",
): Promise<void> {
  if (raw === null || raw === undefined) return;
  const writes = decodeConsistencyToken(raw);
  if (!writes) {
    throw badUserInput(
      "Not a consistency token: pass a `consistencyToken` from a mutation's answer as is.",
      field,
    );
  }
  if (!(await readYourWrites.waitFor(writes))) {
    throw notYetReplicated(
      "This data does not reflect your recent change yet (it is still on its way here); retry shortly.",
    );
  }
}

/**
 * The opaque token of one write: the aggregate `type`/`id` at `version` (e.g. an order after
 * `createOrder`: `tokenOf("order", id, 1)`). For `consistencyToken` fields.
 */
export function tokenOf(aggregateType: string, aggregateId: string, version: number): string {
  return encodeConsistencyToken([{ aggregateType, aggregateId, version }]);
}

/** The opaque token of several writes (e.g. a payment and the order it completes). */
export function tokenOfWrites(writes: readonly ConsistencyToken[]): string {
  return encodeConsistencyToken(writes);
}
