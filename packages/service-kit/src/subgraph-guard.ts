/**
 * Sealed subgraphs: a subgraph's port must not be a way around the gateway. With a shared secret
 * configured, `/graphql` answers only requests carrying it (the gateway adds it to every subgraph
 * request); every subgraph also applies depth, alias and cost limits itself, so a request that does
 * reach it directly (or a gateway misconfigured) cannot ask for unbounded work.
 */
import { timingSafeEqual, createHash } from "node:crypto";
import type { ApolloServerPlugin, BaseContext } from "@apollo/server";
import { ApolloArmor } from "@escape.tech/graphql-armor";
import type { NextFunction, Request, Response } from "express";
import type { GraphQLSchema, ValidationRule } from "graphql";
import { costLimitError, listSizesOf, operationCost, type ListSizes } from "./demand-control.ts";

/** Header carrying the gateway's shared secret to the subgraphs. */
export const GATEWAY_SECRET_HEADER = "x-boxoffice-gateway-secret";
/**
 * Header carrying the client's address (as the gateway determined it) to the subgraphs; trusted only
 * on a request that also carries the gateway's secret.
 */
export const CLIENT_ADDRESS_HEADER = "x-boxoffice-client-address";

/** Query limits, the same at the gateway and in each subgraph. */
export interface QueryLimits {
  /** Deepest selection nesting; introspection is exempt. Default 12. */
  maxDepth: number;
  /** Aliases per operation. Default 30. */
  maxAliases: number;
  /** Operation cost (see demand-control.ts). Default 5000. */
  maxCost: number;
  /** Directives per operation. Default 50. */
  maxDirectives: number;
}

export const DEFAULT_QUERY_LIMITS: QueryLimits = {
  maxDepth: 12,
  maxAliases: 30,
  maxCost: 5000,
  maxDirectives: 50,
};

/**
 * Compares a presented secret with the expected one in constant time (both hashed to 32 bytes first,
 * so neither the length nor a common prefix leaks through timing; `timingSafeEqual` needs equal
 * lengths).
 */
export function secretMatches(presented: string | undefined, expected: string): boolean {
  if (typeof presented !== "string") return false;
  const a = createHash("sha256").update(presented).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}

/**
 * Express middleware for `/graphql`: with a `secret`, a request without the matching
 * {@link GATEWAY_SECRET_HEADER} is answered 403 with a GraphQL error `FORBIDDEN` before anything is
 * parsed or run; `res.locals.fromGateway` tells later steps whether the gateway vouched for the request.
 * Without a secret (development), every request passes and none is vouched for.
 */
export function gatewayOnly(secret: string | undefined) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const presented = req.header(GATEWAY_SECRET_HEADER);
    res.locals.fromGateway = secret !== undefined && secretMatches(presented, secret);
    if (secret !== undefined && !res.locals.fromGateway) {
      res.status(403).json({
        errors: [{ message: "This service answers only the gateway.", extensions: { code: "FORBIDDEN" } }],
      });
      return;
    }
    next();
  };
}

/**
 * The client's address for a request: what the gateway said (only when it vouched for the request
 * with the secret), else the socket's peer address.
 */
export function clientAddressOf(req: Request, res: Response): string {
  const forwarded = req.header(CLIENT_ADDRESS_HEADER);
  if (res.locals.fromGateway === true && forwarded && /^[0-9A-Fa-f:.]{2,45}$/.test(forwarded)) {
    return forwarded;
  }
  return req.socket.remoteAddress ?? "unknown";
}

/** `@listSize` declarations of a built schema, read from each field's SDL (its `astNode`). */
export function listSizesOfSchema(schema: GraphQLSchema): ListSizes {
  const definitions = Object.values(schema.getTypeMap()).flatMap((type) => [
    ...(type.astNode ? [type.astNode] : []),
    ...type.extensionASTNodes,
  ]);
  return listSizesOf({ kind: "Document" as never, definitions });
}

/**
 * An Apollo plugin refusing, before execution, an operation whose cost is over `maxCost`
 * (COST_LIMIT_EXCEEDED with `cost` and `limit`, HTTP 400). Variables and argument defaults count.
 */
export function costLimitPlugin<TContext extends BaseContext>(
  sizes: ListSizes,
  maxCost: number,
  onCost?: (cost: number, context: TContext) => Promise<void> | void,
): ApolloServerPlugin<TContext> {
  return {
    requestDidStart: () =>
      Promise.resolve({
        didResolveOperation: async ({ document, request, schema, contextValue }) => {
          const cost = operationCost({
            schema,
            sizes,
            document,
            operationName: request.operationName,
            variables: request.variables,
          });
          if (cost > maxCost) throw costLimitError(cost, maxCost);
          await onCost?.(cost, contextValue);
        },
      }),
  };
}

/**
 * Depth, alias and directive limits (graphql-armor) plus the cost limit, for a subgraph's own server.
 * graphql-armor's token limit is off: it throws while parsing and answers HTTP 500; the 100 kB body cap
 * bounds parsing instead. Its cost limit is off: it counts only literal page sizes, which the cost
 * plugin does not.
 */
export function subgraphLimits<TContext extends BaseContext>(
  schema: GraphQLSchema,
  limits: Partial<QueryLimits> = {},
): { plugins: ApolloServerPlugin<TContext>[]; validationRules: ValidationRule[] } {
  const merged = { ...DEFAULT_QUERY_LIMITS, ...limits };
  const armor = new ApolloArmor({
    maxDepth: { n: merged.maxDepth, ignoreIntrospection: true },
    maxAliases: { n: merged.maxAliases, allowList: [] },
    maxDirectives: { n: merged.maxDirectives },
    costLimit: { enabled: false },
    maxTokens: { enabled: false },
    blockFieldSuggestion: { enabled: false },
  }).protect();
  return {
    // graphql-armor is CommonJS: its plugin type names @apollo/server's CJS declarations; same objects.
    plugins: [
      ...(armor.plugins as unknown as ApolloServerPlugin<TContext>[]),
      costLimitPlugin<TContext>(listSizesOfSchema(schema), merged.maxCost),
    ],
    validationRules: armor.validationRules,
  };
}
