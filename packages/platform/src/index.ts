export {
  freePort,
  startPlatform,
  type Platform,
  type PlatformOptions,
  type RunningProcess,
} from "./platform.ts";
export { DEMO_BUYER, DEMO_PASSWORD, DEMO_SELLER, seed, type SeedResult } from "./seed.ts";
export { startWebServer, WEB_DIST, type WebServer, type WebServerOptions } from "./web.ts";
