/**
 * `boxoffice-trace`: prints one trace from the span files of `TELEMETRY_TRACES_DIR` as a tree.
 *
 *   boxoffice-trace --dir .traces --request-id <x-request-id of a response>
 *   boxoffice-trace --dir .traces --trace-id <32 hex>
 *   boxoffice-trace --dir .traces            (the trace of the latest GraphQL request)
 */
import { Command } from "commander";
import { formatTree, readSpans, traceIdWhere, traceTree } from "./spans.ts";

const program = new Command()
  .name("boxoffice-trace")
  .description("Print one trace recorded in TELEMETRY_TRACES_DIR as a tree of spans.")
  .requiredOption("--dir <dir>", "the TELEMETRY_TRACES_DIR the processes wrote to")
  .option("--request-id <id>", "the x-request-id of the request (response header)")
  .option("--trace-id <id>", "the trace id (32 hex digits)")
  .action(async (options: { dir: string; requestId?: string; traceId?: string }) => {
    const spans = await readSpans(options.dir);
    let traceId = options.traceId;
    if (!traceId && options.requestId)
      traceId = traceIdWhere(spans, "boxoffice.request_id", options.requestId);
    if (!traceId) {
      const latest = spans
        .filter((s) => s.service === "gateway" && s.attributes["boxoffice.request_id"] !== undefined)
        .sort((a, b) => b.startMs - a.startMs)[0];
      traceId = latest?.traceId;
    }
    if (!traceId) {
      process.stderr.write(`no matching trace among ${spans.length} spans in ${options.dir}\n`);
      process.exit(1);
    }
    process.stdout.write(`trace ${traceId}\n${formatTree(traceTree(spans, traceId))}\n`);
  });

await program.parseAsync();
