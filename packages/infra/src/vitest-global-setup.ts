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

/**
 * How many projects of this run use the infrastructure now. Every project runs this setup (in the one
 * vitest main process) and vitest tears projects down concurrently: without the count, the first
 * project to finish would stop PostgreSQL while another project's later teardown (dropping the
 * database of its accounts process) still needs it.
 */
const users = globalThis as typeof globalThis & { __boxofficeInfraUsers?: number };

export default async function setup(): Promise<() => Promise<void>> {
  const owner: Ownership = { kind: "test-run", pid: process.pid };
  const endpoints = await up({ owner, report: stderrReporter });
  users.__boxofficeInfraUsers = (users.__boxofficeInfraUsers ?? 0) + 1;
  process.env.DATABASE_URL = endpoints.databaseUrl;
  process.env.KAFKA_BROKERS = endpoints.kafkaBrokers.join(",");
  return async () => {
    users.__boxofficeInfraUsers = (users.__boxofficeInfraUsers ?? 1) - 1;
    // The last project of the run stops what the run started (after its own other teardowns).
    if (users.__boxofficeInfraUsers === 0) await down({ owner, report: () => undefined });
  };
}
