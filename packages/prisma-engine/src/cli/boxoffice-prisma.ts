import { runPrisma } from "../prisma-cli.ts";

/**
 * `boxoffice-prisma <prisma args>`: the Prisma CLI with the offline schema engine wired in
 * when the native one is absent. Exits with the CLI's exit code.
 */
export async function run(argv: readonly string[]): Promise<number> {
  return runPrisma(argv);
}
