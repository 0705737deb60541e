import type { ErrorRequestHandler } from "express";
import type { Logger } from "pino";

/**
 * Express error handler for what fails before GraphQL runs (body parsing): a GraphQL-shaped JSON
 * error with code BAD_REQUEST — 400 for malformed JSON, 413 for a body over the limit — and never
 * Express's default HTML page with a stack trace (OWASP: Improper Error Handling).
 */
export function jsonErrorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, _req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    const e = error as { status?: unknown; type?: unknown };
    const status = typeof e.status === "number" && e.status >= 400 && e.status < 500 ? e.status : 500;
    const message =
      status === 413
        ? "Request body too large."
        : status === 500
          ? "Internal server error"
          : "Malformed request body: send JSON.";
    if (status === 500) logger.error({ err: error }, "unhandled HTTP error");
    res.status(status).json({
      errors: [{ message, extensions: { code: status === 500 ? "INTERNAL_SERVER_ERROR" : "BAD_REQUEST" } }],
    });
  };
}
