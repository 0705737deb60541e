import {
  applyIfNewer,
  NonRetryableError,
  type BoxofficeEventDefinition,
  type EventHandler,
  type EventOfType,
} from "@boxoffice/events";
import type { StorefrontTx } from "../db.ts";
import { isUuid } from "@boxoffice/service-kit";

/**
 * `user.registered`: the user's id and registration time into `users` (the e-mail stays with
 * accounts: it is private to its owner). Idempotent (inbox) and version-aware (applyIfNewer).
 * @throws NonRetryableError (→ dead-letter topic) when `userId` is not a UUID.
 */
export function userRegisteredHandler(): EventHandler<
  EventOfType<BoxofficeEventDefinition, "user.registered">,
  StorefrontTx
> {
  return async (event, tx) => {
    if (!isUuid(event.data.userId)) {
      throw new NonRetryableError(`user ${event.data.userId}: userId must be a UUID`);
    }
    await applyIfNewer(tx, {
      table: "users",
      key: { id: event.data.userId.toLowerCase() },
      version: event.aggregateVersion,
      values: { registered_at: new Date(event.occurredAt) },
    });
  };
}
