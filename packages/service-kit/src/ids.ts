/**
 * Ids from clients and from other services' events: every Boxoffice entity id is a UUID (RFC 9562),
 * stored lower-case. Checked once here so no subgraph keeps its own pattern.
 */
import { badUserInput } from "./errors.ts";

/** The canonical 8-4-4-4-12 hex form (RFC 9562 §4), any version, any case. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Is `value` a UUID in its canonical 8-4-4-4-12 hex form (RFC 9562 §4)? Any version, any case. */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/**
 * An id from the client, lower-cased.
 * @throws GraphQLError BAD_USER_INPUT with `message` and `extensions.field = field` when `raw` is not a UUID.
 */
export function parseUuid(raw: string, field: string, message: string): string {
  if (!isUuid(raw)) throw badUserInput(message, field);
  return raw.toLowerCase();
}
