/**
 * `boxoffice-events` — topic admin, dead-letter inspection and replay.
 *
 *   boxoffice-events topics create [--partitions 6] [--replication-factor 3]
 *   boxoffice-events dlq list <dlq-topic> [--json]
 *   boxoffice-events dlq inspect <dlq-topic> <partition> <offset>
 *   boxoffice-events dlq replay <dlq-topic> [--group <id>] [--partition <p> --offset <o>] [--event-id <id>]
 *   boxoffice-events replay <topic> --group <id> --from <iso> --to <iso>
 *
 * Brokers come from `--brokers host:port,…` or KAFKA_BROKERS. Exit codes: 0 success, 1 failure,
 * 2 bad usage (commander).
 */
import { Command, InvalidArgumentError } from "commander";
import { boxofficeRegistry } from "./contracts.ts";
import { createKafka } from "./kafka.ts";
import { errorMessage } from "./logger.ts";
import { listDeadLetters, replayDeadLetters, replayTopicRange } from "./tooling.ts";
import { ensureTopics, topicSpecsFor } from "./topics.ts";

function kafkaFrom(opts: { brokers?: string }) {
  const brokers = (opts.brokers ?? process.env.KAFKA_BROKERS ?? "").split(",").filter(Boolean);
  if (brokers.length === 0) throw new Error("no brokers: pass --brokers host:port or set KAFKA_BROKERS");
  return createKafka({ clientId: "boxoffice-events-cli", brokers });
}

function integer(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError("expected a non-negative integer");
  return n;
}

function date(value: string): Date {
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw new InvalidArgumentError("expected an ISO-8601 date-time");
  return d;
}

async function run(action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (error) {
    console.error(`boxoffice-events: ${errorMessage(error)}`);
    process.exitCode = 1;
  }
}

const program = new Command()
  .name("boxoffice-events")
  .description("Boxoffice event tooling: topics, dead letters, replays.")
  .option("--brokers <list>", "Kafka brokers host:port[,host:port] (default: KAFKA_BROKERS)")
  .showHelpAfterError();

const globals = () => program.opts<{ brokers?: string }>();

program
  .command("topics")
  .description("topic administration")
  .command("create")
  .description("create every Boxoffice topic and its .dlq topic if missing (auto-creation is off)")
  .option("--partitions <n>", "partitions per event topic", integer, 6)
  .option("--replication-factor <n>", "replicas per partition", integer, 1)
  .action((opts: { partitions: number; replicationFactor: number }) =>
    run(async () => {
      const result = await ensureTopics(kafkaFrom(globals()), topicSpecsFor(boxofficeRegistry, opts));
      console.log(JSON.stringify(result, null, 2));
      if (result.mismatched.length > 0) process.exitCode = 1;
    }),
  );

const dlq = program.command("dlq").description("dead-letter topics (<topic>.dlq)");

dlq
  .command("list <dlqTopic>")
  .description("list dead letters: position, event, error, original position")
  .option("--json", "print JSON (with values and headers)")
  .action((dlqTopic: string, opts: { json?: boolean }) =>
    run(async () => {
      const letters = await listDeadLetters(kafkaFrom(globals()), dlqTopic);
      if (opts.json) {
        console.log(JSON.stringify(letters, null, 2));
        return;
      }
      if (letters.length === 0) console.log(`${dlqTopic}: no dead letters`);
      for (const l of letters) {
        console.log(
          `${l.partition}/${l.offset}  ${l.failedAt ?? l.timestamp}  ${l.eventType ?? "?"} ${l.eventId ?? "?"}  ` +
            `from ${l.originalTopic ?? "?"}/${l.originalPartition ?? "?"}/${l.originalOffset ?? "?"}  ` +
            `group ${l.consumerGroup ?? "?"}  attempts ${l.attempts ?? "?"}  ${l.reason ?? ""}: ${l.errorMessage ?? ""}`,
        );
      }
    }),
  );

dlq
  .command("inspect <dlqTopic> <partition> <offset>")
  .description("print one dead letter in full (headers and value)")
  .action((dlqTopic: string, partition: string, offset: string) =>
    run(async () => {
      const letters = await listDeadLetters(kafkaFrom(globals()), dlqTopic);
      const letter = letters.find((l) => l.partition === Number(partition) && l.offset === offset);
      if (!letter) throw new Error(`no dead letter at ${dlqTopic} ${partition}/${offset}`);
      let value: unknown = letter.value;
      try {
        value = letter.value === null ? null : JSON.parse(letter.value);
      } catch {
        // not JSON (that may be why it was dead-lettered): print as text
      }
      console.log(JSON.stringify({ ...letter, value }, null, 2));
    }),
  );

dlq
  .command("replay <dlqTopic>")
  .description("re-deliver dead letters to their original topic for one consumer group")
  .option("--group <id>", "target consumer group (default: the group that dead-lettered each message)")
  .option("--partition <p>", "only the dead letter at this partition…", integer)
  .option("--offset <o>", "…and offset")
  .option("--event-id <id>", "only dead letters of this event id")
  .action(
    (dlqTopic: string, opts: { group?: string; partition?: number; offset?: string; eventId?: string }) =>
      run(async () => {
        const replayed = await replayDeadLetters(kafkaFrom(globals()), {
          deadLetterTopic: dlqTopic,
          ...(opts.group ? { groupId: opts.group } : {}),
          select: (l) =>
            (opts.partition === undefined || l.partition === opts.partition) &&
            (opts.offset === undefined || l.offset === opts.offset) &&
            (opts.eventId === undefined || l.eventId === opts.eventId),
        });
        console.log(
          JSON.stringify({
            replayed: replayed.map((l) => ({ partition: l.partition, offset: l.offset, eventId: l.eventId })),
          }),
        );
      }),
  );

program
  .command("replay <topic>")
  .description("re-deliver a time range of a topic to one consumer group")
  .requiredOption("--group <id>", "target consumer group")
  .requiredOption("--from <iso>", "start (inclusive), ISO-8601", date)
  .requiredOption("--to <iso>", "end (inclusive), ISO-8601", date)
  .action((topic: string, opts: { group: string; from: Date; to: Date }) =>
    run(async () => {
      const count = await replayTopicRange(kafkaFrom(globals()), {
        topic,
        groupId: opts.group,
        from: opts.from,
        to: opts.to,
      });
      console.log(JSON.stringify({ replayed: count }));
    }),
  );

await program.parseAsync();
