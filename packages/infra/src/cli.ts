/**
 * `boxoffice-infra up | down | status` — start, stop and inspect the local PostgreSQL and Kafka.
 * Exit codes: 0 success, 1 a start-up problem (printed as one actionable paragraph), 2 bad usage.
 */
import { Command } from "commander";
import { down, InfraError, status, up } from "./index.ts";

function fail(error: unknown): never {
  if (error instanceof InfraError) {
    console.error(`\nboxoffice-infra: ${error.message}\n`);
  } else {
    console.error(`\nboxoffice-infra: ${(error as Error).message}\n`);
  }
  process.exit(1);
}

const program = new Command()
  .name("boxoffice-infra")
  .description("Start, stop and inspect the PostgreSQL and Kafka that Boxoffice runs on (no Docker needed).")
  .showHelpAfterError();

program
  .command("up")
  .description(
    "start PostgreSQL and Kafka (or check DATABASE_URL / KAFKA_BROKERS) and wait until they answer",
  )
  .option("--json", "print the endpoints as JSON on stdout")
  .action(async (opts: { json?: boolean }) => {
    try {
      const endpoints = await up();
      if (opts.json) {
        console.log(JSON.stringify(endpoints));
      } else {
        console.log(`DATABASE_URL=${endpoints.databaseUrl}`);
        console.log(`KAFKA_BROKERS=${endpoints.kafkaBrokers.join(",")}`);
        console.log("Infrastructure is up. Stop it with: npx -y pnpm@12.4.2 infra down");
      }
    } catch (error) {
      fail(error);
    }
  });

program
  .command("down")
  .description("stop what `up` started (never an external DATABASE_URL / KAFKA_BROKERS)")
  .action(async () => {
    try {
      const { stopped } = await down();
      console.log(stopped.length ? `Stopped: ${stopped.join(", ")}` : "Nothing was running.");
    } catch (error) {
      fail(error);
    }
  });

program
  .command("status")
  .description("show what is running")
  .option("--json", "print JSON")
  .action(async (opts: { json?: boolean }) => {
    try {
      const s = await status();
      if (opts.json) {
        console.log(JSON.stringify(s, null, 2));
        return;
      }
      for (const [name, e] of Object.entries(s)) {
        console.log(
          `${name.padEnd(9)} ${e.running ? "running" : "stopped"}${e.pid ? ` pid=${e.pid}` : ""} ${e.source} ${e.detail}`,
        );
      }
    } catch (error) {
      fail(error);
    }
  });

program.exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));
await program.parseAsync(process.argv);
