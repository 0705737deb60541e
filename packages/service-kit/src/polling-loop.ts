import { errorMessage, silentLogger, type EventsLogger } from "@boxoffice/events";

/** A background loop started and stopped with its service (see `createPollingLoop`). */
export interface PollingLoop {
  /** Starts polling; the first poll runs at once. Idempotent. */
  start(): void;
  /** Stops polling and waits for the poll in flight. */
  stop(): Promise<void>;
  /** `running`, and the error of the last poll (null when it succeeded). */
  status(): { running: boolean; lastError: string | null };
}

/**
 * A poll loop for background jobs whose state lives in the database (the orders subgraph's durable
 * expiry timer, the payments subgraph's refund queue): `poll` runs at once, then again after
 * `pollIntervalMs`, or immediately when it returns true (it handled a full batch and more may be
 * due). A poll that throws is logged as `<name> poll failed` and retried after the interval — the
 * job's state is in the database, so a failed poll loses nothing.
 *
 * @param options.pollIntervalMs pause after a poll that found less than a batch, in ms.
 */
export function createPollingLoop(options: {
  name: string;
  pollIntervalMs: number;
  poll: () => Promise<boolean>;
  logger?: EventsLogger;
}): PollingLoop {
  const logger = options.logger ?? silentLogger;
  let running = false;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> | undefined;
  let lastError: string | null = null;

  const tick = async () => {
    let again = false;
    try {
      again = await options.poll();
      lastError = null;
    } catch (error) {
      lastError = errorMessage(error);
      logger.error(`${options.name} poll failed`, { error: lastError });
    }
    if (running) timer = setTimeout(schedule, again ? 0 : options.pollIntervalMs);
  };
  const schedule = () => {
    inFlight = tick();
  };

  return {
    start() {
      if (running) return;
      running = true;
      schedule();
    },
    async stop() {
      running = false;
      clearTimeout(timer);
      await inFlight;
    },
    status: () => ({ running, lastError }),
  };
}
