/** Runtime configuration: the server that serves the app writes `/config.json` (one build, any gateway). */
export interface WebConfig {
  /** The gateway's GraphQL endpoint on another origin of the same site, e.g. http://localhost:4000/graphql. */
  gatewayUrl: string;
}

const FALLBACK: WebConfig = { gatewayUrl: "http://localhost:4000/graphql" };

/** Reads `/config.json`; falls back to the default gateway when it is missing (e.g. `vite dev`). */
export async function loadConfig(): Promise<WebConfig> {
  try {
    const res = await fetch("/config.json", { cache: "no-store" });
    if (!res.ok) return FALLBACK;
    const body = (await res.json()) as Partial<WebConfig>;
    return typeof body.gatewayUrl === "string" ? { gatewayUrl: body.gatewayUrl } : FALLBACK;
  } catch {
    return FALLBACK;
  }
}
