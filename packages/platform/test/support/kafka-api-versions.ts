/**
 * Stands in for the apache/kafka image's `kafka-broker-api-versions.sh --bootstrap-server <host:port>`
 * (the compose health check), whose tools jar the local broker's classpath does not include: exits 0
 * when the broker answers a metadata request, 1 otherwise. Run inside the kafka service's namespace.
 */
import { createKafka } from "@boxoffice/events";

const index = process.argv.indexOf("--bootstrap-server");
const bootstrap = process.argv[index + 1];
if (index < 0 || !bootstrap) process.exit(2);
const admin = createKafka({ clientId: "compose-healthcheck", brokers: [bootstrap] }).admin();
try {
  await admin.connect();
  const cluster = await admin.describeCluster();
  process.exitCode = cluster.brokers.length > 0 ? 0 : 1;
} catch {
  process.exitCode = 1;
} finally {
  await admin.disconnect().catch(() => undefined);
}
