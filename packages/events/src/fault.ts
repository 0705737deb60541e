/**
 * Test-only fault injection: kill the process (SIGKILL, no cleanup, like a crash or an OOM kill) at
 * a named point, so tests can prove that no crash point loses or doubles an event; or make kafkajs
 * crash a consumer the way it will not recover from by itself. Inert unless a
 * `FaultInjection` is passed explicitly in the relay's or consumer's options; nothing reads the
 * environment here (a test fixture may parse one with `parseFaultInjection`).
 */

/**
 * - `relay.before-send`: rows claimed (state already committed), nothing sent to Kafka yet.
 * - `relay.after-send`: Kafka acknowledged the batch, rows not yet marked published.
 * - `consumer.after-db-commit`: the handler's transaction committed, its offset not yet committed.
 * - `consumer.mid-batch`: half of a fetched batch applied, the rest not started, nothing committed
 *   to Kafka for that batch.
 * - `consumer.non-retriable-crash`: not a kill — a fetched batch throws, before anything of it is
 *   applied, an error kafkajs treats as non-retriable (`retriable: false`, as its own
 *   `KafkaJSNonRetriableError`), so kafkajs crashes the consumer and does NOT restart it (as after
 *   "Failed to find group coordinator" in a broker outage, kafkajs issue #1630).
 */
export type FaultPoint =
  | "relay.before-send"
  | "relay.after-send"
  | "consumer.after-db-commit"
  | "consumer.mid-batch"
  | "consumer.non-retriable-crash";

export const FAULT_POINTS: readonly FaultPoint[] = [
  "relay.before-send",
  "relay.after-send",
  "consumer.after-db-commit",
  "consumer.mid-batch",
  "consumer.non-retriable-crash",
];

export interface FaultInjection {
  point: FaultPoint;
  /** Crash on the n-th time the point is reached (default 1; only that once). */
  onHit?: number;
}

/**
 * Parses `point` or `point:n` (e.g. `relay.after-send:3`).
 *
 * @throws Error for an unknown point or a non-positive n.
 */
export function parseFaultInjection(value: string | undefined): FaultInjection | undefined {
  if (!value) return undefined;
  const [point, n] = value.split(":");
  if (!FAULT_POINTS.includes(point as FaultPoint)) throw new Error(`unknown fault point "${point}"`);
  const onHit = n === undefined ? 1 : Number(n);
  if (!Number.isInteger(onHit) || onHit < 1) throw new Error(`bad fault hit count "${n}"`);
  return { point: point as FaultPoint, onHit };
}

/**
 * Counts hits of the configured point and, on the chosen one, SIGKILLs the process (or, for
 * `consumer.non-retriable-crash`, throws).
 *
 * @throws Error with `retriable: false` at `consumer.non-retriable-crash`'s chosen hit.
 */
export class FaultInjector {
  private hits = 0;
  constructor(private readonly injection: FaultInjection | undefined) {}

  reached(point: FaultPoint): void {
    if (this.injection?.point !== point) return;
    this.hits += 1;
    if (this.hits !== (this.injection.onHit ?? 1)) return;
    if (point === "consumer.non-retriable-crash") {
      throw Object.assign(new Error("fault injection: consumer.non-retriable-crash"), { retriable: false });
    }
    process.kill(process.pid, "SIGKILL");
  }
}
