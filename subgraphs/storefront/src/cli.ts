/**
 * `pnpm --filter @boxoffice/storefront run rebuild-read-model [--timeout-seconds 600] [--wait-seconds 10]` — rebuilds
 * the storefront read model from the topics (packages/events `rebuildReadModel`):
 *
 * 1. takes the read model's lock exclusively (read-model-lock.ts): refuses while any storefront runs
 *    (they hold it shared), retrying for up to `--wait-seconds`; a storefront cannot start until
 *    the rebuild has finished;
 * 2. records in `read_model_state` that a rebuild is under way (a storefront started meanwhile, or
 *    after a crash of this command, refuses to start on half-built tables);
 * 3. empties the read-model tables and replays every followed topic from offset 0 under a new group
 *    `<namespace>.read-model.rebuild-<epoch ms>` until the end offsets seen at the start;
 * 4. records that group as the live one: the next start of the storefront continues under it, from
 *    where the rebuild stopped.
 *
 * Configuration: the storefront's own environment (`DATABASE_URL`, `KAFKA_BROKERS`, `KAFKA_NAMESPACE`,
 * `LOG_LEVEL`; src/env.ts). Exit codes: 0 rebuilt; 1 failed (safe to run again); 2 bad usage.
 */
import { createKafka } from "@boxoffice/events";
import { createLogger, eventNames, eventsLogger, kafkaSecurity } from "@boxoffice/service-kit";
import { Command, InvalidArgumentError } from "commander";
import { createPrisma } from "./db.ts";
import { storefrontEnv } from "./env.ts";
import { lockForRebuild, type ReadModelLock } from "./events/read-model-lock.ts";
import { rebuildStorefront } from "./events/rebuild.ts";
import {
  liveReadModelGroupId,
  markRebuilding,
  markRebuilt,
  UnfinishedRebuildError,
} from "./events/read-model-state.ts";
import { readModelGroupId } from "./events/read-model.consumer.ts";

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("expected a whole number of seconds ≥ 1");
  return n;
}

const program = new Command()
  .name("storefront rebuild")
  .description("Rebuild the storefront read model from the Kafka topics (stop the storefront first).")
  .option("--timeout-seconds <n>", "give up when the replay has not caught up after this long", seconds, 600)
  .option("--wait-seconds <n>", "how long to wait for running storefronts to stop", seconds, 10)
  .showHelpAfterError()
  .action(async (opts: { timeoutSeconds: number; waitSeconds: number }) => {
    const env = storefrontEnv();
    const logger = createLogger("storefront-rebuild", env.LOG_LEVEL);
    const names = eventNames("storefront", env.KAFKA_NAMESPACE);
    const kafka = createKafka({
      clientId: "storefront-rebuild",
      brokers: env.KAFKA_BROKERS,
      logger: eventsLogger(logger),
      ...kafkaSecurity(env),
    });
    const prisma = createPrisma(env.DATABASE_URL);
    let lock: ReadModelLock | undefined;
    try {
      // Exclusive: no storefront serves (or consumes into) the tables while they are rebuilt.
      lock = await lockForRebuild(env.DATABASE_URL, opts.waitSeconds * 1000, (reason) => {
        // A storefront could start now; `read_model_state` still says "rebuilding", so it refuses to.
        console.error(`storefront rebuild: lost the read-model lock (${reason}); run the rebuild again`);
        process.exit(1);
      });
      let live: string;
      try {
        live = await liveReadModelGroupId(prisma, names.consumerGroupNamespace);
      } catch (error) {
        // A rebuild that did not finish: run it again (the group it started from no longer matters).
        if (!(error instanceof UnfinishedRebuildError)) throw error;
        live = readModelGroupId(names.consumerGroupNamespace);
        console.log("A previous rebuild did not finish; rebuilding again.");
      }
      await markRebuilding(prisma, live);
      const started = performance.now();
      console.log(`Rebuilding the storefront read model from ${names.registry.topics().join(", ")}…`);
      const result = await rebuildStorefront({
        kafka,
        prisma,
        registry: names.registry,
        service: names.consumerGroupNamespace,
        timeoutMs: opts.timeoutSeconds * 1000,
        logger: eventsLogger(logger),
      });
      await markRebuilt(prisma, result.groupId);
      console.log(
        `Rebuilt in ${((performance.now() - started) / 1000).toFixed(1)} s: ${result.messages} messages, ` +
          `${result.counts.applied} applied, ${result.counts.duplicate} duplicates, ${result.counts["dead-lettered"]} dead-lettered. ` +
          `The storefront continues under consumer group ${result.groupId}; start it again.`,
      );
    } catch (error) {
      console.error(`storefront rebuild: ${error instanceof Error ? error.message : String(error)}`);
      process.exitCode = 1;
    } finally {
      await lock?.release();
      await prisma.$disconnect();
    }
  });

await program.parseAsync();
