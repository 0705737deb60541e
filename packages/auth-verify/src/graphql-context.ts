import { GraphQLError } from "graphql";
import { AuthError, type AuthErrorReason } from "./auth-error.ts";
import type { RequestLike } from "./credentials.ts";
import type { AuthResult, Principal } from "./principal.ts";
import type { Verifier } from "./verifier.ts";

/** What the auth helpers need from a resolver context; subgraph contexts extend it. */
export interface AuthContext {
  readonly auth: AuthResult;
}

/**
 * Apollo Server context function argument: standalone and Express give `{ req: IncomingMessage }`;
 * anything with `headers` (a Fetch `Request`, `{ headers: HeaderMap }`) fits too.
 */
export interface AuthContextArgs {
  readonly req: RequestLike;
}

/**
 * A GraphQL `UNAUTHENTICATED` error, as thrown by {@link requireUser}. Only the reason code is exposed,
 * never the verifier's detail message. No HTTP status: thrown from a resolver it only nulls that field,
 * the rest of the operation still answers (GraphQL partial results).
 * @param reason why a presented credential was refused; omitted when there was no credential.
 */
export function unauthenticatedError(reason?: AuthErrorReason): GraphQLError {
  return new GraphQLError(reason === undefined ? "Sign-in required" : "Authentication failed", {
    extensions: reason === undefined ? { code: "UNAUTHENTICATED" } : { code: "UNAUTHENTICATED", reason },
  });
}

/**
 * A GraphQL `FORBIDDEN` error: authenticated but not allowed (not the owner, missing role).
 * @param message client-visible message; keep it free of details about the resource.
 */
export function forbiddenError(message = "Not allowed"): GraphQLError {
  return new GraphQLError(message, { extensions: { code: "FORBIDDEN" } });
}

/** Same error with Apollo's `extensions.http` status, which Apollo Server applies and strips. */
function withHttpStatus(error: GraphQLError, status: number): GraphQLError {
  return new GraphQLError(error.message, { extensions: { ...error.extensions, http: { status } } });
}

/**
 * Builds an Apollo Server context function that authenticates each request and puts the result in
 * `auth`. Spread it into a larger context: `context: async (args) => ({ ...(await auth(args)), db })`.
 *
 * A request without credentials gets `auth: { kind: "anonymous" }`. A present but invalid credential
 * fails the whole operation before any resolver runs: GraphQL error `UNAUTHENTICATED` with
 * `extensions.reason` (HTTP 401), so a client with a stale token learns it instead of silently seeing
 * anonymous data. When the keys cannot be fetched (`KEYS_UNAVAILABLE`) the error is
 * `SERVICE_UNAVAILABLE` (HTTP 503): the client's session is probably fine and must not be discarded.
 *
 * @throws GraphQLError as described; any other failure (e.g. the `isRevoked` hook throwing) fails the
 *   operation closed with `INTERNAL_SERVER_ERROR` (HTTP 500) and a fixed message; the original error is
 *   its `originalError`, for logs only.
 */
export function createAuthContext(verifier: Verifier): (args: AuthContextArgs) => Promise<AuthContext> {
  return async ({ req }) => {
    try {
      return { auth: await verifier.authenticate(req) };
    } catch (error) {
      if (!(error instanceof AuthError)) {
        // Apollo Server sends a context function's plain Error to the client as "Context creation
        // failed: <message>", which would expose e.g. the revocation store's connection error. The
        // original stays on `originalError` for formatError and logs.
        throw new GraphQLError("Authentication could not be checked", {
          originalError: error instanceof Error ? error : new Error(String(error)),
          extensions: { code: "INTERNAL_SERVER_ERROR", http: { status: 500 } },
        });
      }
      if (error.reason === "KEYS_UNAVAILABLE") {
        const unavailable = new GraphQLError("Authentication is temporarily unavailable", {
          extensions: { code: "SERVICE_UNAVAILABLE" },
        });
        throw withHttpStatus(unavailable, 503);
      }
      throw withHttpStatus(unauthenticatedError(error.reason), 401);
    }
  };
}

/**
 * The signed-in user, for resolvers that need one.
 * @throws GraphQLError `UNAUTHENTICATED` when the request is anonymous.
 */
export function requireUser(ctx: AuthContext): Principal {
  if (ctx.auth.kind !== "user") throw unauthenticatedError();
  return ctx.auth.principal;
}

/**
 * The signed-in user, who must hold `role` (from the token's `roles` claim).
 * @throws GraphQLError `UNAUTHENTICATED` when anonymous, `FORBIDDEN` without the role.
 */
export function requireRole(ctx: AuthContext, role: string): Principal {
  const principal = requireUser(ctx);
  if (!principal.roles.includes(role)) throw forbiddenError();
  return principal;
}

/**
 * The signed-in user, who must own the resource (`ownerUserId` is the resource's owner account id), or
 * hold `options.overrideRole` (e.g. `"support"`). Check ownership on the loaded resource, not on an id
 * from the arguments (OWASP API Security Top 10, API1:2023 Broken Object Level Authorization).
 * @throws GraphQLError `UNAUTHENTICATED` when anonymous, `FORBIDDEN` otherwise.
 */
export function requireOwner(
  ctx: AuthContext,
  ownerUserId: string,
  options: { readonly overrideRole?: string } = {},
): Principal {
  const principal = requireUser(ctx);
  if (principal.userId === ownerUserId) return principal;
  if (options.overrideRole !== undefined && principal.roles.includes(options.overrideRole)) return principal;
  throw forbiddenError();
}
