/**
 * Validation of what clients send: ids and page arguments. Every check runs before anything is
 * read or written, so a refused request leaves no row and no event behind.
 */
import { badUserInput, parseUuid } from "@boxoffice/service-kit";

/** Page size bound of the `myOrders` query. */
export const PAGE_MAX = 100;

/**
 * An id (order or ticket) from the client, lower-cased.
 * @throws GraphQLError BAD_USER_INPUT (field `field`) when it is not a UUID; `what` names the entity.
 */
export function parseId(raw: string, field: string, what: "order" | "ticket"): string {
  return parseUuid(raw, field, `Not ${what === "order" ? "an order" : "a ticket"} id.`);
}

/**
 * The `myOrders` page arguments: `first` defaults to 20.
 * @throws GraphQLError BAD_USER_INPUT (field `first` or `after`) when `first` is outside 1–100 or
 *   `after` is not an order id.
 */
export function parsePage(
  first: number | null | undefined,
  after: string | null | undefined,
): { first: number; after: string | undefined } {
  const size = first ?? 20;
  if (!Number.isInteger(size) || size < 1 || size > PAGE_MAX) {
    throw badUserInput(`first must be from 1 to ${PAGE_MAX}.`, "first");
  }
  return { first: size, after: after == null ? undefined : parseId(after, "after", "order") };
}
