/** Errors this package throws or understands. */

/** An event (or draft) that does not match its envelope or its registered data schema. */
export class InvalidEventError extends Error {
  override readonly name = "InvalidEventError";
  constructor(
    message: string,
    /** Human-readable validation issues (zod paths and messages). */
    readonly issues: readonly string[] = [],
  ) {
    super(issues.length ? `${message}: ${issues.join("; ")}` : message);
  }
}

/** A type or version the registry does not know. */
export class UnknownEventError extends Error {
  override readonly name = "UnknownEventError";
}

/**
 * Throw from a consumer handler when retrying cannot help (the event contradicts the read model in a
 * way only a human can fix). The consumer dead-letters the message at once instead of retrying.
 */
export class NonRetryableError extends Error {
  override readonly name = "NonRetryableError";
}

/** A configuration mistake found at start-up (bad identifier, missing topic mapping…). */
export class EventsConfigError extends Error {
  override readonly name = "EventsConfigError";
}
