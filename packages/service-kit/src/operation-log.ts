import type { ApolloServerPlugin, BaseContext } from "@apollo/server";
import {
  graphqlErrors,
  graphqlOperationDuration,
  rateLimitRefusals,
  tracingEnabled,
} from "@boxoffice/telemetry";
import { trace } from "@opentelemetry/api";
import { Kind } from "graphql";
import type { Logger } from "pino";

/**
 * Logs one JSON line per GraphQL operation at `info`: `operationName`, the root fields asked for
 * (e.g. `_entities`), `durationMs`, `errors` (count) and `requestId` — so one request can be
 * followed from the gateway through every subgraph by its id. Also records the operation in
 * `graphql_operation_duration_seconds` (by operation name, `anonymous` without one), each error code
 * in `graphql_errors_total` and RATE_LIMITED refusals in `boxoffice_rate_limit_refusals_total`; with
 * tracing on it names the request's server span after the operation (`POST /graphql payForOrder`)
 * and tags it with the request id, which `boxoffice-trace --request-id` looks for.
 */
export function operationLogPlugin<TContext extends BaseContext>(
  logger: Logger,
): ApolloServerPlugin<TContext> {
  return {
    requestDidStart: () => {
      const started = performance.now();
      return Promise.resolve({
        willSendResponse: (ctx) => {
          const requestId = (ctx.contextValue as { requestId?: unknown }).requestId;
          const fields =
            ctx.operation?.selectionSet.selections.flatMap((s) =>
              s.kind === Kind.FIELD ? [s.name.value] : [],
            ) ?? [];
          const operationName = ctx.operationName ?? "anonymous";
          const seconds = (performance.now() - started) / 1000;
          graphqlOperationDuration.observe(
            { operation_name: operationName, operation_type: ctx.operation?.operation ?? "unknown" },
            seconds,
          );
          for (const error of ctx.errors ?? []) {
            // Typed GraphQLError, but the gateway also lists a subgraph's raw network error (no extensions).
            const code = (error.extensions as Record<string, unknown> | undefined)?.code;
            const label = typeof code === "string" ? code : "INTERNAL_SERVER_ERROR";
            graphqlErrors.inc({ operation_name: operationName, code: label });
            if (label === "RATE_LIMITED") rateLimitRefusals.inc({ operation_name: operationName });
          }
          const span = tracingEnabled() ? trace.getActiveSpan() : undefined;
          if (span) {
            span.updateName(`POST /graphql ${operationName}`);
            span.setAttribute("graphql.operation.name", operationName);
            span.setAttribute("graphql.operation.type", ctx.operation?.operation ?? "unknown");
            if (typeof requestId === "string") span.setAttribute("boxoffice.request_id", requestId);
          }
          logger.info(
            {
              requestId: typeof requestId === "string" ? requestId : undefined,
              operationName: ctx.operationName ?? null,
              operation: ctx.operation?.operation ?? null,
              fields,
              durationMs: Math.round((performance.now() - started) * 10) / 10,
              errors: ctx.errors?.length ?? 0,
            },
            "graphql operation",
          );
          return Promise.resolve();
        },
      });
    },
  };
}
