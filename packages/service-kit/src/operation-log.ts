import type { ApolloServerPlugin, BaseContext } from "@apollo/server";
import { Kind } from "graphql";
import type { Logger } from "pino";

/**
 * Logs one JSON line per GraphQL operation at `info`: `operationName`, the root fields asked for
 * (e.g. `_entities`), `durationMs`, `errors` (count) and `requestId` — so one request can be
 * followed from the gateway through every subgraph by its id.
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
