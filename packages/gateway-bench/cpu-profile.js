/**
 * Preloaded by the benchmark (`NODE_OPTIONS=--import <this file>`, since Node 20 refuses
 * `--cpu-prof` in NODE_OPTIONS) into a process it profiles: samples the main thread's CPU from start
 * to exit and writes `<CPU_PROFILE_DIR>/<pid>.cpuprofile` (Chrome DevTools / speedscope format).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import path from "node:path";

const dir = process.env.CPU_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post("Profiler.enable");
  session.post("Profiler.setSamplingInterval", { interval: 500 });
  session.post("Profiler.start");
  // A same-thread inspector session answers synchronously, so this completes inside 'exit'.
  process.once("exit", () => {
    session.post("Profiler.stop", (error, result) => {
      if (error) return;
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, `${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
