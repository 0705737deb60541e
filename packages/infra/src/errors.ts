/**
 * A start-up problem the user can fix. `message` is one paragraph that says what happened and
 * what to do next (install Java 17+, set KAFKA_BROKERS, free a port, or use docker compose).
 */
export class InfraError extends Error {
  override readonly name = "InfraError";
  constructor(
    /** Stable machine-readable reason, e.g. `JAVA_MISSING`, `PORT_IN_USE`. */
    readonly code: InfraErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export type InfraErrorCode =
  | "JAVA_MISSING"
  | "JAVA_TOO_OLD"
  | "MAVEN_MISSING"
  | "KAFKA_DOWNLOAD_FAILED"
  | "PORT_IN_USE"
  | "NOT_READY"
  | "START_FAILED"
  | "DATA_VERSION_MISMATCH"
  | "LOCKED";
