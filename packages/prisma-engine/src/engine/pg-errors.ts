import { describeServer } from "./datasource.ts";

/** A Prisma "known error": a `P1xxx` code and the user-facing message of the native engine. */
export interface KnownError {
  errorCode: string | undefined;
  message: string;
}

function field(error: unknown, name: string): unknown {
  return typeof error === "object" && error !== null ? Reflect.get(error, name) : undefined;
}

/**
 * Maps a `pg` connection/DDL error to the Prisma error code the native engine would report.
 * Codes and wording: https://www.prisma.io/docs/orm/reference/error-reference (P1000, P1001,
 * P1003, P1009, P1010); SQLSTATEs: PostgreSQL Appendix A.
 *
 * @param error what `pg` threw (a `DatabaseError` with `.code`, or a socket error).
 * @param url the datasource URL, used only for database name and `host:port`.
 */
export function toKnownError(error: unknown, url: string, database: string): KnownError {
  const code = field(error, "code");
  const message = error instanceof Error ? error.message : String(error);
  const server = describeServer(url);
  switch (code) {
    case "3D000":
      return {
        errorCode: "P1003",
        message: `Database \`${database}\` does not exist on the database server at \`${server}\`.`,
      };
    case "42P04":
      return {
        errorCode: "P1009",
        message: `Database \`${database}\` already exists on the database server at \`${server}\``,
      };
    case "28P01":
    case "28000":
      return {
        errorCode: "P1000",
        message: `Authentication failed against database server at \`${server}\`, the provided database credentials are not valid.`,
      };
    case "42501":
      return { errorCode: "P1010", message: `User was denied access on the database \`${database}\`` };
    case "ECONNREFUSED":
    case "ENOTFOUND":
    case "EAI_AGAIN":
    case "EHOSTUNREACH":
    case "ETIMEDOUT":
    case "ECONNRESET":
      return {
        errorCode: "P1001",
        message: `Can't reach database server at \`${server}\`\n\nPlease make sure your database server is running at \`${server}\`.`,
      };
    default:
      return { errorCode: undefined, message };
  }
}
