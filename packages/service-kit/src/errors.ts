import { GraphQLError, type GraphQLFormattedError } from "graphql";
import { unwrapResolverError } from "@apollo/server/errors";
import type { Logger } from "pino";

/**
 * Error codes a client may see with their original message: the ones a caller can act on.
 * Everything else is an internal failure and is masked.
 */
export const CLIENT_ERROR_CODES = new Set([
  "BAD_USER_INPUT",
  "UNAUTHENTICATED",
  "FORBIDDEN",
  "NOT_FOUND",
  "CONFLICT",
  // Rate limits (extensions.retryAfter in seconds) and the cost limit (extensions.cost, .limit).
  "RATE_LIMITED",
  "COST_LIMIT_EXCEEDED",
  // auth-verify: signing keys unreachable; clients should retry rather than drop the session.
  "SERVICE_UNAVAILABLE",
  "GRAPHQL_PARSE_FAILED",
  "GRAPHQL_VALIDATION_FAILED",
  "BAD_REQUEST",
  "OPERATION_RESOLUTION_FAILURE",
  "PERSISTED_QUERY_NOT_FOUND",
  "PERSISTED_QUERY_NOT_SUPPORTED",
]);

/**
 * Apollo Server `formatError`: keeps typed client errors (message, code, and safe extensions),
 * replaces anything else by `Internal server error` with code `INTERNAL_SERVER_ERROR`, and logs the
 * original with its stack. Stack traces never reach clients (OWASP: Improper Error Handling).
 */
export function maskErrors(logger: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const code = formatted.extensions?.code;
    if (typeof code === "string" && CLIENT_ERROR_CODES.has(code)) {
      const { stacktrace: _stacktrace, exception: _exception, ...extensions } = formatted.extensions ?? {};
      // Apollo Server prefixes errors thrown by the context function (where authentication runs);
      // the client should read the error's own message.
      const message = formatted.message.replace(/^Context creation failed: /, "");
      return { ...formatted, message, extensions };
    }
    const original = unwrapResolverError(error);
    logger.error({ err: original, path: formatted.path }, "unhandled error in resolver");
    return {
      message: "Internal server error",
      ...(formatted.path ? { path: formatted.path } : {}),
      ...(formatted.locations ? { locations: formatted.locations } : {}),
      extensions: { code: "INTERNAL_SERVER_ERROR" },
    };
  };
}

/**
 * A typed `BAD_USER_INPUT` error for a value the client can correct; `field` names the input
 * field (e.g. `input.email`) so a form can show the message next to it.
 */
export function badUserInput(message: string, field?: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: "BAD_USER_INPUT", ...(field ? { field } : {}) } });
}

/**
 * A typed, retryable "not yet": what the request needs (an id, a consistency token's write) was
 * written elsewhere but has not reached this service's replica within the bounded wait. Code
 * `SERVICE_UNAVAILABLE` with `retryable: true` (nothing was written; repeat the request) and
 * `reason: "NOT_YET_REPLICATED"`. See @boxoffice/events consistency.ts.
 */
export function notYetReplicated(message: string): GraphQLError {
  return new GraphQLError(message, {
    extensions: { code: "SERVICE_UNAVAILABLE", retryable: true, reason: "NOT_YET_REPLICATED" },
  });
}

/** A typed `NOT_FOUND` error: the id is well-formed but names nothing the caller can see. */
export function notFound(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: "NOT_FOUND" } });
}

/**
 * A typed `CONFLICT` error: the request is valid but the current state forbids it. `reason` is a
 * SCREAMING_SNAKE constant a client can branch on (`TICKET_RESERVED`, `ORDER_COMPLETED`), always in
 * `extensions.reason` — the one CONFLICT shape every subgraph answers with (README "Errors").
 */
export function conflict(
  message: string,
  reason: string,
  /** More facts for the client, e.g. `{ limit: 3 }` or `{ retryAfter: 120 }` (seconds). */
  extra: Record<string, string | number> = {},
): GraphQLError {
  return new GraphQLError(message, { extensions: { ...extra, code: "CONFLICT", reason } });
}
