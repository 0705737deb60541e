/**
 * A whole platform on free ports (development mode: plain-http dev cookies) plus the built web
 * client on its own origin, http://localhost:<port>, which the gateway allows with credentials.
 * The browser reaches the gateway as http://localhost:<gateway port> — the same site as the app,
 * so the SameSite=Lax session cookie travels with the app's cross-origin requests.
 */
import { freePort, startPlatform, startWebServer, type Platform, type WebServer } from "@boxoffice/platform";

export interface WebPlatform {
  platform: Platform;
  web: WebServer;
  /** The gateway as the browser calls it. */
  browserGatewayUrl: string;
  stop: () => Promise<void>;
}

export async function startWebPlatform(): Promise<WebPlatform> {
  const adminDatabaseUrl = process.env.DATABASE_URL;
  const kafkaBrokers = process.env.KAFKA_BROKERS;
  if (!adminDatabaseUrl || !kafkaBrokers)
    throw new Error("the infra global setup did not export DATABASE_URL/KAFKA_BROKERS");
  const webPort = await freePort();
  const gatewayPort = await freePort();
  const browserGatewayUrl = `http://localhost:${gatewayPort}/graphql`;
  const platform = await startPlatform({
    adminDatabaseUrl,
    kafkaBrokers,
    nodeEnv: "development",
    // Every browser user of the run comes from 127.0.0.1: the per-address sign-up limit (10 an hour)
    // would refuse the later tests' users. The limits have their own tests (e2e/test/abuse.test.ts).
    env: { ACCOUNTS_SIGNUP_PER_ADDRESS: "100000", GATEWAY_OPERATION_BUDGET: "100000000" },
    ports: { gateway: gatewayPort },
    processEnv: { gateway: { GATEWAY_CORS_ORIGINS: `http://localhost:${webPort}` } },
    // Progress with timestamps: when the start is slow, the log says which step took the time.
    onProgress: (line) => console.log(`${new Date().toISOString().slice(11, 19)} [web platform] ${line}`),
  });
  const web = await startWebServer({ port: webPort, gatewayUrl: browserGatewayUrl }).catch(
    async (error: unknown) => {
      await platform.stop();
      throw error;
    },
  );
  return {
    platform,
    web,
    browserGatewayUrl,
    stop: async () => {
      await web.stop();
      await platform.stop();
    },
  };
}
