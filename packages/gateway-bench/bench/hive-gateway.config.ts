/**
 * Hive Gateway's configuration for the side-by-side benchmark: it forwards the same headers the
 * Boxoffice gateway forwards (session cookie, bearer token, trace context, request id) and passes
 * every subgraph `Set-Cookie` back to the client, so both gateways do the same work per request.
 * Hive Gateway forwards no headers unless told (`propagateHeaders`). Typed structurally rather than
 * with Hive's `defineConfig`: its declarations pull the DOM library into the whole program.
 */

const FORWARDED = ["cookie", "authorization", "traceparent", "tracestate", "x-request-id"];

export const gatewayConfig = {
  propagateHeaders: {
    fromClientToSubgraphs: ({ request }: { request: Request }) =>
      Object.fromEntries(FORWARDED.map((name) => [name, request.headers.get(name)])),
    fromSubgraphsToClient: ({ response }: { response: Response }) => ({
      "set-cookie": response.headers.getSetCookie(),
    }),
  },
};
