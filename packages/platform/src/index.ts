export {
  freePort,
  startPlatform,
  type Platform,
  type PlatformOptions,
  type RunningProcess,
} from "./platform.ts";
