/**
 * Start-up time and idle memory of every deployable, run through tsx (development) and compiled
 * (`dist/main.js`, what the container image runs), alternating in one run on one machine.
 *
 *   pnpm exec turbo run build && pnpm --filter @boxoffice/platform bench:startup [rounds]
 *
 * Uses the local engines (`@boxoffice/infra`, started if needed). Per round and mode: a fresh platform
 * (fresh database), the time from spawn to the first ready answer of each process (`/readyz`, the
 * gateway's `/healthz`), then its resident set size (VmRSS, /proc) after 5 s idle. Prints medians
 * and the compiled/tsx ratio. Subgraphs start in parallel, so their times include sharing the CPU.
 */
import { readFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { silentReporter, up } from "@boxoffice/infra";
import { startPlatform } from "../src/platform.ts";

type Mode = "tsx" | "compiled";
const rounds = Number(process.argv[2] ?? 3);
const endpoints = await up({ report: silentReporter });
const samples: Record<Mode, Map<string, { ms: number[]; rssMiB: number[] }>> = {
  tsx: new Map(),
  compiled: new Map(),
};

async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kib = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]);
  return kib / 1024;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

for (let round = 0; round < rounds; round += 1) {
  for (const mode of (round % 2 ? ["compiled", "tsx"] : ["tsx", "compiled"]) as Mode[]) {
    const times = new Map<string, number>();
    const platform = await startPlatform({
      adminDatabaseUrl: endpoints.databaseUrl,
      kafkaBrokers: endpoints.kafkaBrokers.join(","),
      compiled: mode === "compiled",
      onProgress: (line) => {
        const ready = /^(\S+) ready \((\d+) ms\)$/.exec(line);
        if (ready) times.set(ready[1]!, Number(ready[2]));
      },
    });
    try {
      await sleep(5000);
      for (const proc of platform.processes) {
        const entry = samples[mode].get(proc.name) ?? { ms: [], rssMiB: [] };
        entry.ms.push(times.get(proc.name) ?? Number.NaN);
        entry.rssMiB.push(await rssMiB(proc.child.pid!));
        samples[mode].set(proc.name, entry);
      }
    } finally {
      await platform.stop();
    }
    process.stderr.write(`round ${round + 1}/${rounds} ${mode} done\n`);
  }
}

const rows = [...samples.tsx.keys()].map((name) => {
  const t = samples.tsx.get(name)!;
  const c = samples.compiled.get(name)!;
  return {
    process: name,
    "ready tsx (ms)": median(t.ms),
    "ready compiled (ms)": median(c.ms),
    "time ratio": +(median(c.ms) / median(t.ms)).toFixed(2),
    "RSS tsx (MiB)": +median(t.rssMiB).toFixed(1),
    "RSS compiled (MiB)": +median(c.rssMiB).toFixed(1),
    "RSS ratio": +(median(c.rssMiB) / median(t.rssMiB)).toFixed(2),
  };
});
const header = Object.keys(rows[0] ?? {});
const widths = header.map((h) =>
  Math.max(h.length, ...rows.map((r) => String(r[h as keyof typeof r]).length)),
);
const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i]!)).join("  ");
process.stdout.write(
  [
    `Node ${process.version}, ${rounds} round(s), medians`,
    line(header),
    ...rows.map((r) => line(header.map((h) => String(r[h as keyof typeof r])))),
    "",
  ].join("\n"),
);
