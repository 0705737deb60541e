/**
 * Turns whatever an Apollo Client operation rejected with into one typed, displayable problem.
 * The gateway's error contract (README, "Errors carry extensions.code"): BAD_USER_INPUT with
 * `extensions.field`, UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, CONFLICT with `extensions.reason`,
 * SERVICE_UNAVAILABLE with `extensions.retryable`, RATE_LIMITED. Codes this client does not know
 * are shown with their message, so a new code never turns into a blank page.
 */
import { CombinedGraphQLErrors, ServerError } from "@apollo/client/errors";

/** One problem to show the user. */
export interface Problem {
  /** `extensions.code`, or NETWORK when the gateway could not be reached, or UNKNOWN. */
  code: string;
  /** The server's message (never a stack trace: the gateway masks internal errors). */
  message: string;
  /** For BAD_USER_INPUT: the input field's last path segment (`input.email` → `email`). */
  field?: string;
  /** For CONFLICT: `extensions.reason`, e.g. TICKET_RESERVED. */
  reason?: string;
  /** True when repeating the same request is safe and may succeed (SERVICE_UNAVAILABLE retryable, network). */
  retryable: boolean;
  /** For RATE_LIMITED: seconds to wait, from `extensions.retryAfter` or the Retry-After header. */
  retryAfterSeconds?: number;
}

interface FormattedError {
  message: string;
  extensions?: Record<string, unknown> | undefined;
}

function fromGraphQLError(error: FormattedError, retryAfterHeader?: string | null): Problem {
  const ext = error.extensions ?? {};
  const code = typeof ext.code === "string" ? ext.code : "UNKNOWN";
  const field = typeof ext.field === "string" ? ext.field.split(".").pop() : undefined;
  const retryAfter =
    typeof ext.retryAfter === "number"
      ? ext.retryAfter
      : typeof ext.retryAfterSeconds === "number"
        ? ext.retryAfterSeconds
        : retryAfterHeader && /^\d+$/.test(retryAfterHeader)
          ? Number(retryAfterHeader)
          : undefined;
  return {
    code,
    message: error.message,
    ...(field ? { field } : {}),
    ...(typeof ext.reason === "string" ? { reason: ext.reason } : {}),
    retryable: code === "SERVICE_UNAVAILABLE" ? ext.retryable === true : code === "RATE_LIMITED",
    ...(retryAfter !== undefined ? { retryAfterSeconds: retryAfter } : {}),
  };
}

/**
 * The problems behind `error` (an Apollo Client error, a fetch failure, anything thrown).
 * @returns at least one problem.
 */
export function problemsOf(error: unknown): Problem[] {
  if (CombinedGraphQLErrors.is(error) && error.errors.length > 0) {
    return error.errors.map((e) => fromGraphQLError(e));
  }
  if (ServerError.is(error)) {
    // A non-2xx answer (e.g. 429 or 503 from a proxy) may still carry GraphQL errors as JSON.
    const retryAfter = error.response.headers.get("retry-after");
    try {
      const body = JSON.parse(error.bodyText) as { errors?: FormattedError[] };
      if (Array.isArray(body.errors) && body.errors.length > 0) {
        return body.errors.map((e) => fromGraphQLError(e, retryAfter));
      }
    } catch {
      // not JSON: fall through to the status
    }
    const code = error.statusCode === 429 ? "RATE_LIMITED" : "SERVICE_UNAVAILABLE";
    return [
      fromGraphQLError(
        { message: `The server answered ${error.statusCode}.`, extensions: { code, retryable: true } },
        retryAfter,
      ),
    ];
  }
  if (error instanceof TypeError) {
    return [{ code: "NETWORK", message: "Cannot reach Boxoffice. Check your connection.", retryable: true }];
  }
  return [
    { code: "UNKNOWN", message: error instanceof Error ? error.message : String(error), retryable: false },
  ];
}

/** A sentence for a problem, in the user's terms; the code stays visible next to it. */
export function explain(problem: Problem): string {
  switch (problem.code) {
    case "RATE_LIMITED":
      return problem.retryAfterSeconds !== undefined
        ? `Too many requests. Try again in ${problem.retryAfterSeconds} s.`
        : "Too many requests. Wait a moment, then try again.";
    case "SERVICE_UNAVAILABLE":
      return problem.retryable
        ? "A Boxoffice service is briefly unavailable. Try again."
        : "A Boxoffice service stopped answering; the outcome is unknown. Check before repeating.";
    case "UNAUTHENTICATED":
      return problem.message || "Please sign in.";
    case "CONFLICT":
      return problem.reason ? `${problem.message} (${problem.reason})` : problem.message;
    default:
      return problem.message;
  }
}
