/**
 * Vitest global setup shared by every package whose tests need real PostgreSQL and Kafka:
 * `globalSetup: ["@boxoffice/infra/vitest-global-setup"]`.
 *
 * Brings the infrastructure up (reusing what runs, or DATABASE_URL / KAFKA_BROKERS when set) and
 * exports `DATABASE_URL` (superuser URL) and `KAFKA_BROKERS` to the test workers, which vitest
 * forks after global setup. Engines this run started are stopped at the end of the run; if the
 * run is killed, the next run adopts and later stops them.
 */
import { down, stderrReporter, up, type Ownership } from "./index.ts";

export default async function setup(): Promise<() => Promise<void>> {
  const owner: Ownership = { kind: "test-run", pid: process.pid };
  const endpoints = await up({ owner, report: stderrReporter });
  process.env.DATABASE_URL = endpoints.databaseUrl;
  process.env.KAFKA_BROKERS = endpoints.kafkaBrokers.join(",");
  return async () => {
    await down({ owner, report: () => undefined });
  };
}
